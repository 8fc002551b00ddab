import { createVerifier } from '@argmax/auth'
import type { StreamSpec, Upcaster } from '@argmax/events'
import { createServiceApp, listen, readinessChecks } from '@argmax/http'
import {
  createDatabase,
  migrateToLatest,
  startProjection,
  type Database,
  type ProjectionRegistration,
  type RunningProjection,
} from '@argmax/projections'
import { assertBucketReachable, type S3Client } from '@argmax/storage'
import type { Logger } from '@argmax/telemetry'
import type { FastifyInstance } from 'fastify'
import type { Kysely, Migration } from 'kysely'
import type { JetStreamManager, NatsConnection } from 'nats'
import { projectionReadiness } from './projection-readiness.ts'
import {
  openBaseParts,
  Shutdown,
  startWorkers,
  type BaseParts,
  type ShellS3,
  type ShellSeams,
  type WorkerStarters,
  type Workers,
} from './shell-parts.ts'
import type { ShellConfig } from './shell-config.ts'

/** What a caller (main.ts or a test) hands a service. */
export interface ServiceStartOptions<Config extends ShellConfig = ShellConfig> extends ShellSeams {
  config: Config
  logger: Logger
  /** Prometheus text for /metrics (main.ts passes the telemetry's). */
  metrics?: () => Promise<string>
  /** The service's own Postgres schema; tests pass a fresh one. */
  schema?: string
  /** Listen on config.http (default true); tests may use app.inject instead. */
  listen?: boolean
}

/** Everything the parts of a service are given. */
export interface ServiceParts<DB, S extends ShellS3 | undefined = undefined> extends BaseParts<S> {
  database: Database<DB>
  db: Kysely<DB>
  /** The running projections, by the names the definition gave them. */
  projections: Record<string, RunningProjection>
  /**
   * Read-your-writes: resolves once every projection has applied `position` (a command's
   * reply); otherwise an UnavailableError (503) after `readYourWritesTimeoutMs`, or at once
   * while a projection is failing.
   */
  waitForPosition(position: number): Promise<void>
}

/**
 * A service, declared: the shell does the wiring, in this order — NATS and the streams, the S3
 * bucket, the schema and its migrations, the projections, the dependencies, the HTTP shell with
 * /readyz over all of them, the API, the workers, then listening — and stops it in reverse.
 */
export interface ServiceDefinition<
  DB,
  Deps = undefined,
  W extends Workers = Record<never, never>,
  S extends ShellS3 | undefined = undefined,
> {
  service: string
  description: string
  /** The streams it owns, created or updated at start-up. */
  streams: (replicas: number) => StreamSpec[]
  /**
   * The service's own stream, the one its commands append to: /readyz reports its reachability
   * as `nats`, and read-your-writes waits for the projections that read it.
   */
  readinessStream: string
  migrations: Record<string, Migration>
  /** Its Postgres schema (default: the service name); ServiceStartOptions.schema wins. */
  schema?: string
  /** Brings old event versions to the current schema when the event store loads them. */
  upcast?: Upcaster
  /** Its bucket: ensured at start-up, checked by /readyz as `s3`. */
  s3?: S
  /**
   * Read models, by name: started after the migrations, each a /readyz check of that name,
   * stopped after HTTP and the workers.
   */
  projections?: Record<string, ProjectionRegistration<DB>>
  /** How long waitForPosition waits before answering 503 (default 10 s). */
  readYourWritesTimeoutMs?: number
  /**
   * Paths whose routes verify a credential of their own instead of the platform's bearer
   * token (training's job routes take a run-scoped token): the shell's auth skips them, and
   * the routes must authenticate every request themselves.
   */
  selfAuthenticatedPaths?: RegExp[]
  /** Further /readyz checks: a check passes when it resolves. */
  readiness?: (parts: ServiceParts<DB, S>) => Record<string, () => Promise<unknown>>
  /** The use cases' dependencies, made from the parts (absent: `deps` is undefined). */
  dependencies?: (parts: ServiceParts<DB, S>) => Deps
  /** Registers the REST routes on the HTTP shell. */
  api?: (app: FastifyInstance, deps: Deps, parts: ServiceParts<DB, S>) => void | Promise<void>
  /** Background work (durable consumers, schedules), started last and stopped first. */
  workers?: WorkerStarters<Deps, ServiceParts<DB, S>, W>
}

export interface RunningService<DB = unknown, Deps = undefined, W extends Workers = Workers> {
  app: FastifyInstance
  /** Undefined with `listen: false`. */
  url: string | undefined
  nc: NatsConnection
  jsm: JetStreamManager
  database: Database<DB>
  deps: Deps
  workers: W
  projections: Record<string, RunningProjection>
  waitForPosition(position: number): Promise<void>
  /** Workers and HTTP first, then the projections, the database, S3 and NATS. */
  stop(): Promise<void>
}

/** Starts a declared service; a failed start undoes what it did and rethrows. */
export async function startServiceShell<
  DB,
  Deps = undefined,
  W extends Workers = Record<never, never>,
  S extends ShellS3 | undefined = undefined,
>(
  definition: ServiceDefinition<DB, Deps, W, S>,
  options: ServiceStartOptions,
): Promise<RunningService<DB, Deps, W>> {
  const { config, logger } = options
  const shutdown = new Shutdown()
  try {
    const base = await openBaseParts(
      {
        ...options,
        service: definition.service,
        nats: config.nats,
        streams: definition.streams,
        upcast: definition.upcast,
        ...(definition.s3 ? { s3: definition.s3 } : {}),
      },
      shutdown,
    )

    const schema = options.schema ?? definition.schema ?? definition.service
    const database = await createDatabase<DB>({
      connectionString: config.postgres.url,
      schema,
      log: logger,
    })
    shutdown.add(() => database.destroy())
    const applied = await migrateToLatest(database.db, schema, definition.migrations)
    if (applied.length > 0) logger.info({ migrations: applied, schema }, 'migrations applied')

    const projections: Record<string, RunningProjection> = {}
    for (const [name, registration] of Object.entries(definition.projections ?? {})) {
      const running = await startProjection({
        nc: base.nc,
        db: database.db,
        log: logger,
        // A projection of another context's stream waits for that service to create it.
        waitForStream: true,
        ...registration,
      })
      projections[name] = running
      shutdown.add(() => running.stop())
    }
    const timeoutMs = definition.readYourWritesTimeoutMs ?? 10_000
    const ownProjections = Object.entries(definition.projections ?? {})
      .filter(([, registration]) => registration.stream === definition.readinessStream)
      .map(([name]) => projections[name]!)
    const parts: ServiceParts<DB, S> = {
      ...base,
      database,
      db: database.db,
      projections,
      async waitForPosition(position) {
        // A command's position is a sequence of the service's own stream: only the projections
        // of that stream can reach it (those of other contexts' streams count other sequences).
        // Projection waits fail as UnavailableError (timeout, failing, stopped): a 503.
        await Promise.all(ownProjections.map((p) => p.waitFor(position, timeoutMs)))
      },
    }
    // Absent only when the definition's Deps is undefined (see `dependencies`).
    const deps = definition.dependencies?.(parts) as Deps

    const s3: S3Client | undefined = base.s3
    const bucket = definition.s3?.bucket
    const app = await createServiceApp({
      service: definition.service,
      description: definition.description,
      logger,
      verifier: createVerifier(config.auth),
      ...(definition.selfAuthenticatedPaths
        ? { publicPaths: definition.selfAuthenticatedPaths }
        : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ready: readinessChecks({
        nats: () => base.jsm.streams.info(definition.readinessStream),
        postgres: () => database.pool.query('select 1'),
        ...(s3 && bucket ? { s3: () => assertBucketReachable(s3, bucket) } : {}),
        ...projectionReadiness(projections),
        ...definition.readiness?.(parts),
      }),
    })
    shutdown.add(() => app.close())
    await definition.api?.(app, deps, parts)

    const workers = await startWorkers(definition.workers, deps, parts, shutdown)
    const url = options.listen === false ? undefined : await listen(app, config.http)
    return {
      app,
      url,
      nc: base.nc,
      jsm: base.jsm,
      database,
      deps,
      workers,
      projections,
      waitForPosition: parts.waitForPosition,
      stop: () => shutdown.run(),
    }
  } catch (error) {
    return shutdown.abandon(error)
  }
}
