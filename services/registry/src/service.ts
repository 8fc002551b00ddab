import {
  startServiceShell,
  type PeriodicTask,
  type RunningService,
  type ServiceDefinition,
  type ServiceStartOptions,
  type ShellS3,
} from '@argmax/service'
import { createAnalyticsClient } from '@argmax/analytics'
import type { ModelSignature } from '@argmax/contracts'
import { registerRegistryApi } from './api/index.ts'
import type { RegistryDeps } from './application/dependencies.ts'
import { createLimiter } from './application/limiter.ts'
import {
  clickhouseQualitySignals,
  clickhouseTrafficSignals,
  type RolloutSignals,
} from './application/rollout-signals.ts'
import { versionSignature } from './application/signatures.ts'
import type { RegistryConfig } from './config.ts'
import { registryMigrations } from './migrations/index.ts'
import type { RegistryDatabase } from './projections/database.ts'
import { registryProjectionsOf } from './projections/registry.projections.ts'
import { registryStreamSpec } from './streams.ts'
import { startBootstrapReleases, type BootstrapWorker } from './workers/bootstrap-releases.ts'
import { infoLog } from './workers/info-log.ts'
import type { PurgeReport } from './application/purge-deleted.ts'
import { schedulePurge } from './workers/purge-scheduler.ts'
import { startRolloutTicker, type RolloutTicker } from './workers/rollout-ticker.ts'
import { startTrainingFollower, type RunningTrainingFollower } from './workers/training-follower.ts'

export interface RegistryServiceOptions extends ServiceStartOptions<RegistryConfig> {
  /** How long a query waits for `minPosition` before answering 503 (default 10 s). */
  readYourWritesTimeoutMs?: number
  /** Waits between looks for training's stream while it does not exist (default 2 s). */
  trainingStreamPollMs?: number
  /** Waits between a failed handling of a training event and the next try. */
  trainingRetryDelaysMs?: readonly number[]
  /** Where rollouts read their signals (default: the configured ClickHouse's inference_log). */
  signals?: RolloutSignals
}

export type RegistryWorkers = {
  training: RunningTrainingFollower
  bootstrap: BootstrapWorker
  purge: PeriodicTask<PurgeReport>
  rollouts: RolloutTicker
}

export type RunningRegistryService = RunningService<RegistryDatabase, RegistryDeps, RegistryWorkers>

/**
 * The registry service, declared: its stream, the models bucket, its schema and catalog
 * projection, the use cases' dependencies, the REST API (`/v1/models/**`, `/v1/rollouts/**`),
 * and four workers — the follower of training's runs (models on first use, one version per
 * READY run), the bootstrap releases, the purge, and the rollout ticker driving canaries. The shell wires them in that order and stops them in
 * reverse.
 */
export function registryService(
  config: RegistryConfig,
  options: Pick<
    RegistryServiceOptions,
    'readYourWritesTimeoutMs' | 'trainingStreamPollMs' | 'trainingRetryDelaysMs' | 'signals'
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
    dependencies: (parts) => {
      const deps: Omit<RegistryDeps, 'signals'> = {
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
      }
      const signatureOf = (model: string, version: number) => versionSignature(deps, model, version)
      return { ...deps, signals: options.signals ?? clickhouseSignals(config, signatureOf) }
    },
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
      rollouts: (deps, parts) =>
        startRolloutTicker(deps, {
          intervalMs: settings.rolloutTickMs,
          log: infoLog(parts.logger),
        }),
    },
  }
}

/** Traffic and quality signals from ClickHouse: the prediction log and feedback's labels. */
function clickhouseSignals(
  config: RegistryConfig,
  signatureOf: (model: string, version: number) => Promise<ModelSignature>,
): RolloutSignals {
  const client = createAnalyticsClient(config.clickhouse, { database: config.analytics.database })
  return {
    traffic: clickhouseTrafficSignals(client),
    quality: clickhouseQualitySignals(client, signatureOf),
    close: () => client.close(),
  }
}

export function startRegistryService(
  options: RegistryServiceOptions,
): Promise<RunningRegistryService> {
  return startServiceShell(registryService(options.config, options), options)
}
