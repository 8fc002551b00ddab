import { createVerifier } from '@argmax/auth'
import { UnavailableError } from '@argmax/errors'
import { createEventStore, ensureStreams } from '@argmax/events'
import { createServiceApp, listen, readinessChecks } from '@argmax/http'
import { createDatabase, migrateToLatest, startProjection } from '@argmax/projections'
import { assertBucketReachable, createS3Client, ensureBucket } from '@argmax/storage'
import type { Logger } from '@argmax/telemetry'
import type { FastifyInstance } from 'fastify'
import { connect, type NatsConnection } from 'nats'
import { v7 as uuidv7 } from 'uuid'
import { registerDatasetApi } from './api/index.ts'
import type { DatasetDeps } from './application/dependencies.ts'
import type { DatasetConfig } from './config.ts'
import { catalogProjection } from './projections/catalog.projection.ts'
import type { DatasetDatabase } from './projections/database.ts'
import { datasetMigrations } from './projections/migrations/index.ts'
import { datasetStreamSpec } from './stream-spec.ts'
import { DATASET_STREAM_NAMES, type StreamNames } from './streams.ts'
import { schedulePurge, type PurgeScheduler } from './worker/purge-scheduler.ts'
import { startValidator, type RunningValidator } from './worker/validation-consumer.ts'

export interface DatasetServiceOptions {
  config: DatasetConfig
  logger: Logger
  metrics?: () => Promise<string>
  /** An open connection to use (tests); otherwise one is opened from config.nats. */
  nc?: NatsConnection
  names?: StreamNames
  now?: () => Date
  newId?: () => string
  /** Listen on config.http (default true); tests may use app.inject instead. */
  listen?: boolean
  /** How long a query waits for `minPosition` before answering 503. */
  readYourWritesTimeoutMs?: number
}

export interface RunningDatasetService {
  app: FastifyInstance
  url: string | undefined
  deps: DatasetDeps
  purge: PurgeScheduler
  validator: RunningValidator | undefined
  /** Waits until the read model has applied `position`. */
  waitForPosition(position: number): Promise<void>
  stop(): Promise<void>
}

/**
 * Wires the dataset service: its stream, its Postgres schema and catalog projection, the S3
 * bucket, the REST API, the purge schedule and (unless configured `off`) an embedded validator.
 */
export async function startDatasetService(
  options: DatasetServiceOptions,
): Promise<RunningDatasetService> {
  const { config, logger } = options
  const names = options.names ?? DATASET_STREAM_NAMES
  const now = options.now ?? (() => new Date())
  const ownConnection = !options.nc
  const nc =
    options.nc ??
    (await connect({ servers: config.nats.url, name: 'dataset', maxReconnectAttempts: -1 }))
  const cleanups: Array<() => Promise<unknown>> = ownConnection ? [() => nc.drain()] : []
  try {
    const jsm = await nc.jetstreamManager()
    await ensureStreams(jsm, [datasetStreamSpec(names, config.nats.streamReplicas)])

    const s3 = createS3Client(config.s3)
    cleanups.unshift(async () => s3.destroy())
    await ensureBucket(s3, config.dataset.bucket)

    const schema = config.dataset.schema
    const database = await createDatabase<DatasetDatabase>({
      connectionString: config.postgres.url,
      schema,
    })
    cleanups.unshift(() => database.destroy())
    const applied = await migrateToLatest(database.db, schema, datasetMigrations)
    if (applied.length > 0) logger.info({ migrations: applied, schema }, 'migrations applied')

    const projection = await startProjection({
      nc,
      db: database.db,
      stream: names.stream,
      projection: catalogProjection,
    })
    cleanups.unshift(() => projection.stop())
    const timeoutMs = options.readYourWritesTimeoutMs ?? 10_000
    const waitForPosition = async (position: number) => {
      try {
        await projection.waitFor(position, timeoutMs)
      } catch (error) {
        throw new UnavailableError(
          `the catalog has not reached position ${position} within ${timeoutMs} ms: ${String(error)}`,
        )
      }
    }

    const deps: DatasetDeps = {
      store: createEventStore({ nc, now }),
      names,
      db: database.db,
      s3,
      bucket: config.dataset.bucket,
      now,
      newId: options.newId ?? (() => uuidv7()),
      presignExpirySeconds: config.dataset.presignExpirySeconds,
    }

    const app = await createServiceApp({
      service: 'dataset',
      description: 'Datasets and immutable, validated dataset versions',
      logger,
      verifier: createVerifier(config.auth),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ready: readinessChecks({
        nats: () => jsm.streams.info(names.stream),
        postgres: () => database.pool.query('select 1'),
        s3: () => assertBucketReachable(s3, config.dataset.bucket),
        catalog: async () => {
          const status = projection.status()
          if (status.state !== 'running') throw new Error(String(status.error ?? 'stopped'))
        },
      }),
    })
    registerDatasetApi(app, deps, waitForPosition)
    cleanups.unshift(() => app.close())

    const log = (fields: Record<string, unknown>, message: string) => logger.info(fields, message)
    let validator: RunningValidator | undefined
    if (config.dataset.validator === 'embedded') {
      validator = await startValidator({
        nc,
        deps,
        ackWaitMs: config.dataset.validatorAckWaitMs,
        readTimeoutMs: config.dataset.validatorReadTimeoutMs,
        maxDeliver: config.dataset.validatorMaxDeliver,
        workers: config.dataset.validatorWorkers,
        logger,
        parkingReplicas: config.nats.streamReplicas,
      })
      cleanups.unshift(() => validator!.stop())
    }
    const purge = schedulePurge(deps, {
      retentionMs: config.dataset.retentionMs,
      staleUploadMs: config.dataset.staleUploadMs,
      intervalMs: config.dataset.purgeIntervalMs,
      log,
    })
    cleanups.unshift(() => purge.stop())

    const url = options.listen === false ? undefined : await listen(app, config.http)
    return {
      app,
      url,
      deps,
      purge,
      validator,
      waitForPosition,
      stop: () => runAll(cleanups),
    }
  } catch (error) {
    await runAll(cleanups).catch(() => undefined)
    throw error
  }
}

/** In order: workers and HTTP first, then the projection and database, then NATS. */
async function runAll(steps: Array<() => Promise<unknown>>): Promise<void> {
  for (const step of steps) await step()
}
