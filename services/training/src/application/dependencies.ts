import type { EventStore } from '@argmax/events'
import type { S3Client } from '@argmax/storage'
import type { Logger } from '@argmax/telemetry'
import type { Kysely } from 'kysely'
import type { TrainingSettings } from '../config.ts'
import type { TrainingDatabase } from '../projections/tables.ts'
import type { ServiceRunner } from '../runners/select-runner.ts'
import type { TrainingStreamNames } from '../streams.ts'
import type { HeartbeatLog } from './heartbeat-log.ts'
import type { KeyedQueue } from './keyed-queue.ts'
import type { FeedbackPort } from './feedback-port.ts'
import type { InferencePort } from './inference-port.ts'
import type { RegistryPort } from './registry-port.ts'
import type { RunTokens } from './run-tokens.ts'
import type { Wakeup } from './wakeup.ts'

/** Everything the training use cases touch, passed in by the composition root (main.ts). */
export interface TrainingDeps {
  store: EventStore
  names: TrainingStreamNames
  db: Kysely<TrainingDatabase>
  s3: S3Client
  /** The bucket of artifacts, checkpoints and archives (`argmax-models`). */
  bucket: string
  now: () => Date
  newId: () => string
  settings: TrainingSettings
  runner: ServiceRunner
  heartbeats: HeartbeatLog
  runTokens: RunTokens
  /** One user's submissions at a time, in this process. */
  userQueue: KeyedQueue
  /** The API's base URL as jobs reach it; undefined until the service listens. */
  apiUrl: () => string | undefined
  /** Resolves once the runs projection has applied `position` (read-your-writes). */
  waitForRuns: (position: number) => Promise<void>
  /** Asks the scheduler for a round now. */
  wakeup: Wakeup
  logger: Logger
  /** The registry's API as retrain pipelines use it (service credential). */
  registry: RegistryPort
  /** The feedback service's API as retrain pipelines use it (service credential). */
  feedback: FeedbackPort
  /** The gateway, asked whether a pipeline's candidate is loaded (the warm step). */
  inference: InferencePort
  /** One pipeline advance per model at a time in this process. */
  pipelineQueue: KeyedQueue
}
