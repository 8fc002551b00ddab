import { createVerifier } from '@argmax/auth'
import { ensureStreams, type StreamSpec } from '@argmax/events'
import { createServiceApp, listen, readinessChecks } from '@argmax/http'
import { createDatabase, migrateToLatest, type Database } from '@argmax/projections'
import type { Logger } from '@argmax/telemetry'
import type { FastifyInstance } from 'fastify'
import type { Migration } from 'kysely'
import { connect, type JetStreamManager, type NatsConnection } from 'nats'
import type { ShellConfig } from './shell-config.ts'

/** What a caller (main.ts or a test) hands a service. */
export interface ServiceStartOptions {
  config: ShellConfig
  logger: Logger
  /** Prometheus text for /metrics. */
  metrics: () => Promise<string>
  /** The service's own Postgres schema; tests pass a fresh one. */
  schema?: string
}

export interface ServiceShellOptions extends ServiceStartOptions {
  service: string
  description: string
  streams: (replicas: number) => StreamSpec[]
  /** The stream whose reachability /readyz reports. */
  readinessStream: string
  migrations: Record<string, Migration>
}

export interface RunningService {
  app: FastifyInstance
  url: string
  nc: NatsConnection
  jsm: JetStreamManager
  database: Database<unknown>
  /** Stops taking requests, closes the pool, drains NATS. */
  stop(): Promise<void>
}

/**
 * Wires a service: NATS (reconnecting forever, its streams ensured), its Postgres schema
 * (migrated), and the HTTP shell whose /readyz reports both. A failed start undoes what it did.
 */
export async function startServiceShell({
  service,
  description,
  config,
  logger,
  metrics,
  streams,
  readinessStream,
  migrations,
  schema = service,
}: ServiceShellOptions): Promise<RunningService> {
  // Reconnect forever: a NATS restart must cost readiness for a while, not the process.
  const nc = await connect({ servers: config.nats.url, name: service, maxReconnectAttempts: -1 })
  const cleanups: Array<() => Promise<unknown>> = [() => nc.drain()]
  try {
    const jsm = await nc.jetstreamManager()
    await ensureStreams(jsm, streams(config.nats.streamReplicas))

    const database = await createDatabase({
      connectionString: config.postgres.url,
      schema,
      log: logger,
    })
    cleanups.unshift(() => database.destroy())
    const applied = await migrateToLatest(database.db, schema, migrations)
    if (applied.length > 0) logger.info({ migrations: applied, schema }, 'migrations applied')

    const app = await createServiceApp({
      service,
      description,
      logger,
      verifier: createVerifier(config.auth),
      metrics,
      ready: readinessChecks({
        nats: () => jsm.streams.info(readinessStream),
        postgres: () => database.pool.query('select 1'),
      }),
    })
    cleanups.unshift(() => app.close())
    const url = await listen(app, config.http)
    return { app, url, nc, jsm, database, stop: () => runInOrder(cleanups) }
  } catch (error) {
    await runInOrder(cleanups).catch(() => undefined)
    throw error
  }
}

/** HTTP first, then the database, then NATS: nothing in flight loses what it depends on. */
async function runInOrder(steps: Array<() => Promise<unknown>>): Promise<void> {
  for (const step of steps) await step()
}
