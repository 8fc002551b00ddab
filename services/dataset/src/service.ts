import {
  startServiceShell,
  type RunningService,
  type ServiceDefinition,
  type ServiceStartOptions,
  type ShellS3,
} from '@argmax/service'
import { createS3Client } from '@argmax/storage'
import { registerDatasetApi } from './api/index.ts'
import { jsonDocumentReader } from './application/json-documents.ts'
import type { DatasetDeps } from './application/dependencies.ts'
import type { DatasetConfig } from './config.ts'
import { datasetUpcast } from './domain/upcasters.ts'
import { datasetMigrations } from './migrations/index.ts'
import { datasetProjectionsOf } from './projections/dataset.projections.ts'
import type { DatasetDatabase } from './projections/database.ts'
import { datasetStreamSpec } from './streams.ts'
import { infoLog } from './workers/info-log.ts'
import { schedulePurge, type PurgeScheduler } from './workers/purge-scheduler.ts'
import { startValidator, type RunningValidator } from './workers/validation-consumer.ts'

export interface DatasetServiceOptions extends ServiceStartOptions<DatasetConfig> {
  /** How long a query waits for `minPosition` before answering 503 (default 10 s). */
  readYourWritesTimeoutMs?: number
}

export type DatasetWorkers = {
  purge: PurgeScheduler
  /** Undefined where the validator runs as its own process (`ARGMAX_DATASET_VALIDATOR=off`). */
  validator: RunningValidator | undefined
}

export type RunningDatasetService = RunningService<DatasetDatabase, DatasetDeps, DatasetWorkers>

/**
 * The dataset service, declared: its stream, bucket, schema and catalog projection, the use
 * cases' dependencies, the REST API, the purge schedule and (unless configured `off`) an
 * embedded validator. The shell wires them in that order and stops them in reverse.
 */
export function datasetService(
  config: DatasetConfig,
  options: Pick<DatasetServiceOptions, 'readYourWritesTimeoutMs'> = {},
): ServiceDefinition<DatasetDatabase, DatasetDeps, DatasetWorkers, ShellS3> {
  const names = config.dataset.names
  // The catalog loads stored schemas and profiles while it applies events: it starts before
  // the shell's own S3 parts are handed out, so it has a client of its own.
  const readDocument = jsonDocumentReader(createS3Client(config.s3))
  return {
    service: 'dataset',
    description: 'Datasets and immutable, validated dataset versions',
    streams: (replicas) => [datasetStreamSpec(names, replicas)],
    readinessStream: names.stream,
    migrations: datasetMigrations,
    schema: config.dataset.schema,
    s3: { settings: config.s3, bucket: config.dataset.bucket },
    upcast: datasetUpcast,
    projections: datasetProjectionsOf(names, readDocument),
    ...(options.readYourWritesTimeoutMs !== undefined
      ? { readYourWritesTimeoutMs: options.readYourWritesTimeoutMs }
      : {}),
    dependencies: (parts) => ({
      store: parts.store,
      names,
      db: parts.db,
      s3: parts.s3,
      bucket: parts.bucket,
      now: parts.now,
      newId: parts.newId,
      presignExpirySeconds: config.dataset.presignExpirySeconds,
    }),
    api: (app, deps, parts) => registerDatasetApi(app, deps, parts.waitForPosition),
    workers: {
      validator: (deps, parts) =>
        config.dataset.validator === 'embedded'
          ? startValidator({
              nc: parts.nc,
              deps,
              ackWaitMs: config.dataset.validatorAckWaitMs,
              workers: config.dataset.validatorWorkers,
              readTimeoutMs: config.dataset.validatorReadTimeoutMs,
              maxDeliver: config.dataset.validatorMaxDeliver,
              logger: parts.logger,
              parkingReplicas: config.nats.streamReplicas,
            })
          : undefined,
      purge: (deps, parts) =>
        schedulePurge(deps, {
          retentionMs: config.dataset.retentionMs,
          staleUploadMs: config.dataset.staleUploadMs,
          intervalMs: config.dataset.purgeIntervalMs,
          log: infoLog(parts.logger),
        }),
    },
  }
}

export function startDatasetService(
  options: DatasetServiceOptions,
): Promise<RunningDatasetService> {
  return startServiceShell(datasetService(options.config, options), options)
}
