import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { createServiceCredential, serviceCredentialSettings } from '@argmax/auth'
import {
  startServiceShell,
  type RunningService,
  type ServiceDefinition,
  type ServiceStartOptions,
  type ShellS3,
} from '@argmax/service'
import type { RunningConsumer } from '@argmax/events'
import { JOB_PATHS, registerTrainingApi } from './api/index.ts'
import type { TrainingDeps } from './application/dependencies.ts'
import { createHeartbeatLog } from './application/heartbeat-log.ts'
import { KeyedQueue } from './application/keyed-queue.ts'
import { createFeedbackPort } from './application/feedback-port.ts'
import { createInferencePort } from './application/inference-port.ts'
import { createRegistryPort } from './application/registry-port.ts'
import { createRunTokens } from './application/run-tokens.ts'
import { createWakeup } from './application/wakeup.ts'
import type { TrainingConfig } from './config.ts'
import { trainingMigrations } from './migrations/index.ts'
import type { TrainingDatabase } from './projections/tables.ts'
import { trainingProjectionsOf } from './projections/training.projections.ts'
import { createRunner, type ServiceRunner } from './runners/select-runner.ts'
import { trainingStreamSpecs } from './streams.ts'
import { startHousekeeping, type Housekeeping } from './workers/housekeeping.ts'
import { startPipelineWorker, type RunningPipelineWorker } from './workers/pipeline-worker.ts'
import { startQuotaConsumer } from './workers/quota-consumer.ts'
import { startScheduler, type RunningScheduler } from './workers/scheduler.ts'

export interface TrainingServiceOptions extends ServiceStartOptions<TrainingConfig> {
  /** The runner to use instead of the configured one (tests). */
  runner?: ServiceRunner
  /** Kill the local runner's jobs when the service stops (tests; by default they outlive it). */
  killJobsOnStop?: boolean
  /** How long a query waits for `minPosition` before answering 503 (default 10 s). */
  readYourWritesTimeoutMs?: number
}

export type TrainingWorkers = {
  scheduler: RunningScheduler
  quotas: RunningConsumer
  housekeeping: Housekeeping
  pipelines: RunningPipelineWorker
}

export type RunningTrainingService = RunningService<TrainingDatabase, TrainingDeps, TrainingWorkers>

/**
 * The training service, declared: its streams (TRAINING, TRAINING_HEARTBEATS), bucket, schema
 * and projections (runs, quotas, metrics, and its copy of dataset versions from DATASET), the
 * use cases' dependencies, the REST API (platform tokens) and the job API (run tokens only),
 * and its workers — the scheduler (one process at a time, by lease), the quota consumer and
 * the housekeeping (archive, orphaned admissions). The shell wires them in that order and
 * stops them in reverse.
 */
export function trainingService(
  config: TrainingConfig,
  options: {
    runner: ServiceRunner
    apiUrl: () => string | undefined
    readYourWritesTimeoutMs?: number
  },
): ServiceDefinition<TrainingDatabase, TrainingDeps, TrainingWorkers, ShellS3> {
  const settings = config.training
  const names = settings.names
  const timeoutMs = options.readYourWritesTimeoutMs ?? 10_000
  // Training's own credential for the registry, feedback and inference APIs (a token cache each).
  const credentialSettings = serviceCredentialSettings(config.auth, config.serviceClient)
  const serviceCredential = (now: () => Date) =>
    createServiceCredential(credentialSettings, { service: 'training', now })
  return {
    service: 'training',
    description:
      'Training runs, quotas, the queue and its scheduler, runners, heartbeats, dead letters and retrain pipelines',
    streams: (replicas) => trainingStreamSpecs(names, replicas, settings.heartbeatRetentionDays),
    readinessStream: names.stream,
    migrations: trainingMigrations,
    schema: settings.schema,
    s3: { settings: config.s3, bucket: settings.bucket },
    projections: trainingProjectionsOf(
      names,
      settings.datasetNames,
      settings.pipelines.registryNames,
    ),
    readYourWritesTimeoutMs: timeoutMs,
    selfAuthenticatedPaths: JOB_PATHS,
    dependencies: (parts) => ({
      store: parts.store,
      names,
      db: parts.db,
      s3: parts.s3,
      bucket: parts.bucket,
      now: parts.now,
      newId: parts.newId,
      settings,
      runner: options.runner,
      heartbeats: createHeartbeatLog(parts.store, parts.jsm, names),
      runTokens: createRunTokens(settings.runTokenSecret, parts.now),
      userQueue: new KeyedQueue(),
      apiUrl: options.apiUrl,
      waitForRuns: async (position) => {
        await parts.projections['runs']!.waitFor(position, timeoutMs)
      },
      wakeup: createWakeup(),
      logger: parts.logger,
      registry: createRegistryPort({
        baseUrl: settings.pipelines.registryUrl,
        credential: serviceCredential(parts.now),
      }),
      feedback: createFeedbackPort({
        baseUrl: settings.pipelines.feedbackUrl,
        credential: serviceCredential(parts.now),
      }),
      inference: createInferencePort({
        baseUrl: settings.pipelines.inferenceUrl,
        credential: serviceCredential(parts.now),
      }),
      pipelineQueue: new KeyedQueue(),
    }),
    api: (app, deps) => registerTrainingApi(app, deps),
    workers: {
      quotas: (deps, parts) =>
        startQuotaConsumer(deps, {
          nc: parts.nc,
          logger: parts.logger,
          parkingReplicas: config.nats.streamReplicas,
        }),
      scheduler: (deps, parts) =>
        startScheduler(deps, {
          nc: parts.nc,
          holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
          intervalMs: settings.schedulerIntervalMs,
          leaseMs: settings.leaseMs,
          replicas: config.nats.streamReplicas,
          catchUp: async () => {
            const { state } = await parts.jsm.streams.info(names.stream)
            await parts.projections['runs']!.waitFor(state.last_seq, timeoutMs)
          },
        }),
      housekeeping: (deps) => startHousekeeping(deps, { intervalMs: settings.archiveIntervalMs }),
      pipelines: (deps, parts) =>
        startPipelineWorker(deps, {
          nc: parts.nc,
          logger: parts.logger,
          parkingReplicas: config.nats.streamReplicas,
          feedback: settings.pipelines.feedbackNames,
          registry: settings.pipelines.registryNames,
          sweepMs: settings.pipelines.sweepMs,
        }),
    },
  }
}

export async function startTrainingService(
  options: TrainingServiceOptions,
): Promise<RunningTrainingService> {
  const { config } = options
  const runner =
    options.runner ??
    (await createRunner(config.training, {
      env: process.env,
      logger: options.logger,
      ...(options.killJobsOnStop ? { killJobsOnStop: true } : {}),
    }))
  let apiUrl = config.training.apiUrl
  try {
    const running = await startServiceShell(
      trainingService(config, {
        runner,
        apiUrl: () => apiUrl,
        ...(options.readYourWritesTimeoutMs !== undefined
          ? { readYourWritesTimeoutMs: options.readYourWritesTimeoutMs }
          : {}),
      }),
      options,
    )
    apiUrl ??= running.url
    return running
  } catch (error) {
    await runner.stop?.()
    throw error
  }
}
