import {
  TRAINING_EVENTS,
  type TrainingRunQueuedData,
  type TrainingRunSucceededData,
} from '@argmax/contracts'
import {
  startConsumer,
  whenStreamExists,
  type ConsumerLogger,
  type RunningConsumer,
} from '@argmax/events'
import type { NatsConnection } from 'nats'
import type { RegistryDeps } from '../application/dependencies.ts'
import { ensureModelForRun, registerRunVersion } from '../application/register-run.ts'
import { trainingRunSubjects, type StreamNames } from '../streams.ts'

export const TRAINING_FOLLOWER_DURABLE = 'registry-training-runs'

export interface TrainingFollowerOptions {
  nc: NatsConnection
  deps: Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'now'>
  /** Training's stream and subject root (TRAINING / `training`). */
  training: StreamNames
  durable?: string
  ackWaitMs?: number
  maxDeliver?: number
  retryDelaysMs?: readonly number[]
  logger?: ConsumerLogger
  parkingReplicas?: number
  /** How long to wait between looks for training's stream while it does not exist yet. */
  streamPollMs?: number
}

export interface RunningTrainingFollower {
  stop(): Promise<void>
  /** Resolves once the durable consumer runs (training's stream exists). */
  readonly started: Promise<RunningConsumer>
  readonly handled: { created: number; registered: number; refused: number; repeated: number }
}

/**
 * The registry's one consumer of another context: training's `TrainingRunQueued` (the model is
 * created on first use) and `TrainingRunSucceeded` (the run becomes exactly one version) on
 * `training.run.>`, through the platform's durable consumer. Both handlers are idempotent by
 * construction (decided on the model's aggregate, keyed by run), so a redelivery after a crash
 * writes nothing twice. Training's stream belongs to training: until it exists (a fresh stack
 * where training starts later) the follower waits for it instead of failing the service.
 * One at a time, in stream order, so versions are numbered in the order runs succeeded.
 */
export function startTrainingFollower(options: TrainingFollowerOptions): RunningTrainingFollower {
  const { deps, logger: log } = options
  const handled = { created: 0, registered: 0, refused: 0, repeated: 0 }
  const deferred = whenStreamExists(
    options.nc,
    options.training.stream,
    () =>
      startConsumer({
        nc: options.nc,
        stream: options.training.stream,
        durable: options.durable ?? TRAINING_FOLLOWER_DURABLE,
        filterSubject: trainingRunSubjects(options.training),
        ackWaitMs: options.ackWaitMs ?? 60_000,
        maxDeliver: options.maxDeliver ?? 10,
        ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
        parkingReplicas: options.parkingReplicas ?? 1,
        ...(log ? { log } : {}),
        async handler(event) {
          const cause = { eventId: event.id, correlationId: event.correlationId }
          if (event.type === TRAINING_EVENTS.runQueued) {
            const run = event.data as TrainingRunQueuedData
            const outcome = await ensureModelForRun(deps, run, cause)
            if (outcome === 'created') handled.created++
            if (outcome === 'invalid_name') {
              log?.warn({ runId: run.runId, model: run.model }, 'run names no valid model: ignored')
            }
            return
          }
          if (event.type !== TRAINING_EVENTS.runSucceeded) return
          const run = event.data as TrainingRunSucceededData
          log?.info({ runId: run.runId, model: run.model }, 'registering the run')
          const result = await registerRunVersion(deps, run, cause)
          switch (result.outcome) {
            case 'registered':
              handled.registered++
              log?.info(
                { runId: run.runId, model: run.model, version: result.version },
                'version registered',
              )
              return
            case 'refused':
              handled.refused++
              log?.warn(
                { runId: run.runId, model: run.model, reason: result.reason },
                'run refused',
              )
              return
            case 'already_decided':
              handled.repeated++
              log?.info({ runId: run.runId, model: run.model }, 'run already decided')
              return
            case 'invalid_name':
              log?.warn({ runId: run.runId, model: run.model }, 'run names no valid model: ignored')
              return
          }
        },
        async onParked(event, parked) {
          // Nothing is decided for the run: an operator's replay registers it once fixed.
          log?.error(
            { parked: parked.id, type: event.type, error: parked.error.message },
            'a training event was given up on: its run is not registered',
          )
        },
      }),
    { pollMs: options.streamPollMs ?? 2_000, ...(log ? { logger: log } : {}) },
  )
  return { started: deferred.started, handled, stop: () => deferred.stop() }
}
