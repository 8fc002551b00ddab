import { ensureStreams } from '@argmax/events'
import { createVerifier } from '@argmax/auth'
import { createServiceApp, listen, readinessChecks } from '@argmax/http'
import { createDatabase, migrateToLatest } from '@argmax/projections'
import type { Logger } from '@argmax/telemetry'
import type { FastifyInstance } from 'fastify'
import { connect } from 'nats'
import type { RegistryConfig } from './config.ts'
import { registryMigrations } from './migrations/index.ts'
import { REGISTRY_STREAM, registryStreams } from './streams.ts'

export interface RegistryServiceOptions {
  config: RegistryConfig
  logger: Logger
  /** Prometheus text for /metrics. */
  metrics: () => Promise<string>
  /** The service's own Postgres schema; tests pass a fresh one. */
  schema?: string
}

export interface RunningRegistryService {
  app: FastifyInstance
  url: string
  /** Stops taking requests, drains NATS, closes the pool. */
  stop(): Promise<void>
}

/**
 * Wires the registry service: NATS (its stream ensured), its Postgres schema (migrated), and
 * the HTTP shell whose /readyz reports both. Its domain arrives with its issue; until then the service exposes only the operational endpoints.
 */
export async function startRegistryService({
  config,
  logger,
  metrics,
  schema = 'registry',
}: RegistryServiceOptions): Promise<RunningRegistryService> {
  // Reconnect forever: a NATS restart must cost readiness for a while, not the process.
  const nc = await connect({ servers: config.nats.url, name: 'registry', maxReconnectAttempts: -1 })
  const cleanups: Array<() => Promise<unknown>> = [() => nc.drain()]
  try {
    const jsm = await nc.jetstreamManager()
    await ensureStreams(jsm, registryStreams(config.nats.streamReplicas))

    const database = await createDatabase({ connectionString: config.postgres.url, schema })
    cleanups.unshift(() => database.destroy())
    const applied = await migrateToLatest(database.db, schema, registryMigrations)
    if (applied.length > 0) logger.info({ migrations: applied, schema }, 'migrations applied')

    const app = await createServiceApp({
      service: 'registry',
      description: 'Models, model versions, aliases, releases and canary rollouts',
      logger,
      verifier: createVerifier(config.auth),
      metrics,
      ready: readinessChecks({
        nats: () => jsm.streams.info(REGISTRY_STREAM),
        postgres: () => database.pool.query('select 1'),
      }),
    })
    cleanups.unshift(() => app.close())
    const url = await listen(app, config.http)
    return { app, url, stop: () => runAll(cleanups) }
  } catch (error) {
    await runAll(cleanups).catch(() => undefined)
    throw error
  }
}

/** In order: the HTTP server first, then the database, then NATS. */
async function runAll(steps: Array<() => Promise<unknown>>): Promise<void> {
  for (const step of steps) await step()
}
