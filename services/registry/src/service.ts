import {
  startServiceShell,
  type RunningService,
  type ServiceDefinition,
  type ServiceStartOptions,
  type ShellS3,
} from '@argmax/service'
import { registerRegistryApi } from './api/index.ts'
import type { RegistryDeps } from './application/dependencies.ts'
import { createLimiter } from './application/limiter.ts'
import type { RegistryConfig } from './config.ts'
import { registryMigrations } from './migrations/index.ts'
import type { RegistryDatabase } from './projections/database.ts'
import { registryProjectionsOf } from './projections/registry.projections.ts'
import { registryStreamSpec } from './streams.ts'
import { startBootstrapReleases, type BootstrapWorker } from './workers/bootstrap-releases.ts'
import { infoLog } from './workers/info-log.ts'
import { schedulePurge, type PurgeScheduler } from './workers/purge-scheduler.ts'
import { startTrainingFollower, type RunningTrainingFollower } from './workers/training-follower.ts'

export interface RegistryServiceOptions extends ServiceStartOptions<RegistryConfig> {
  /** How long a query waits for `minPosition` before answering 503 (default 10 s). */
  readYourWritesTimeoutMs?: number
  /** Waits between looks for training's stream while it does not exist (default 2 s). */
  trainingStreamPollMs?: number
  /** Waits between a failed handling of a training event and the next try. */
  trainingRetryDelaysMs?: readonly number[]
}

export type RegistryWorkers = {
  training: RunningTrainingFollower
  bootstrap: BootstrapWorker
  purge: PurgeScheduler
}

export type RunningRegistryService = RunningService<RegistryDatabase, RegistryDeps, RegistryWorkers>

/**
 * The registry service, declared: its stream, the models bucket, its schema and catalog
 * projection, the use cases' dependencies, the REST API (`/v1/models/**`), and three workers —
 * the follower of training's runs (models on first use, one version per READY run), the
 * bootstrap releases, and the purge. The shell wires them in that order and stops them in
 * reverse.
 */
export function registryService(
  config: RegistryConfig,
  options: Pick<
    RegistryServiceOptions,
    'readYourWritesTimeoutMs' | 'trainingStreamPollMs' | 'trainingRetryDelaysMs'
  > = {},
): ServiceDefinition<RegistryDatabase, RegistryDeps, RegistryWorkers, ShellS3> {
  const settings = config.registry
  return {
    service: 'registry',
    description: 'Models, model versions with lineage, aliases and releases',
    streams: (replicas) => [registryStreamSpec(settings.names, replicas)],
    readinessStream: settings.names.stream,
    migrations: registryMigrations,
    schema: settings.schema,
    s3: { settings: config.s3, bucket: settings.bucket },
    projections: registryProjectionsOf(settings.names),
    ...(options.readYourWritesTimeoutMs !== undefined
      ? { readYourWritesTimeoutMs: options.readYourWritesTimeoutMs }
      : {}),
    dependencies: (parts) => ({
      store: parts.store,
      names: settings.names,
      db: parts.db,
      s3: parts.s3,
      bucket: parts.bucket,
      now: parts.now,
      newId: parts.newId,
      presignExpirySeconds: settings.presignExpirySeconds,
      maxModelBytes: settings.maxModelBytes,
      verifyLimiter: createLimiter(settings.verifyConcurrency),
    }),
    api: (app, deps, parts) => registerRegistryApi(app, deps, parts.waitForPosition),
    workers: {
      training: (deps, parts) =>
        startTrainingFollower({
          nc: parts.nc,
          deps,
          training: settings.training,
          ackWaitMs: settings.trainingAckWaitMs,
          maxDeliver: settings.trainingMaxDeliver,
          logger: parts.logger,
          parkingReplicas: config.nats.streamReplicas,
          ...(options.trainingStreamPollMs !== undefined
            ? { streamPollMs: options.trainingStreamPollMs }
            : {}),
          ...(options.trainingRetryDelaysMs !== undefined
            ? { retryDelaysMs: options.trainingRetryDelaysMs }
            : {}),
        }),
      bootstrap: (deps, parts) =>
        startBootstrapReleases(deps, settings.bootstrapReleases, {
          retryMs: settings.bootstrapRetryMs,
          log: infoLog(parts.logger),
        }),
      purge: (deps, parts) =>
        schedulePurge(deps, {
          retentionMs: settings.retentionMs,
          staleUploadMs: settings.staleUploadMs,
          intervalMs: settings.purgeIntervalMs,
          log: infoLog(parts.logger),
        }),
    },
  }
}

export function startRegistryService(
  options: RegistryServiceOptions,
): Promise<RunningRegistryService> {
  return startServiceShell(registryService(options.config, options), options)
}
