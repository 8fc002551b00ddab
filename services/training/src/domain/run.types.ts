import type { ModelTask } from '@argmax/contracts'

/**
 * The vocabulary of a training run. A run is PENDING while it waits in the queue (its first
 * attempt, or a retry), TRAINING while an attempt runs, and ends READY, FAILED or CANCELLED;
 * a run whose attempts are spent is DEAD_LETTERED until an admin retries or discards it.
 */
export const RUN_STATUSES = [
  'PENDING',
  'TRAINING',
  'READY',
  'FAILED',
  'CANCELLED',
  'DEAD_LETTERED',
] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

/** Statuses that hold one of the owner's concurrency slots (a retry waiting counts). */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['PENDING', 'TRAINING']
/** Statuses a run never leaves (except to be archived). */
export const FINISHED_STATUSES: readonly RunStatus[] = ['READY', 'FAILED', 'CANCELLED']

export const PRIORITIES = ['high', 'normal', 'low'] as const
export type Priority = (typeof PRIORITIES)[number]

export const TASKS = ['regression', 'classification'] as const satisfies readonly ModelTask[]

export const BUILTIN_TRAINERS = ['xgboost', 'linear'] as const
export type BuiltinTrainerName = (typeof BUILTIN_TRAINERS)[number]

/** What runs an attempt: a built-in trainer, or a container image with its command. */
export type TrainerSpec =
  | { kind: 'builtin'; name: BuiltinTrainerName }
  | { kind: 'image'; image: string; command: string[] }

export function trainerName(trainer: TrainerSpec): string {
  return trainer.kind === 'builtin' ? trainer.name : 'custom'
}

export interface RunResources {
  /** CPU cores (fractions allowed). */
  cpu: number
  memoryMb: number
  gpus: number
  /** A GPU profile such as a MIG slice (`nvidia.com/mig-1g.5gb`). */
  gpuProfile?: string
}

/** The dataset version a run trains on, as training's projection of the DATASET stream has it. */
export interface DatasetRef {
  datasetId: string
  versionId: string
  sha256: string
  size: number
  format: 'csv' | 'jsonl'
  bucket: string
  objectKey: string
}

/**
 * Why an attempt or a run failed. `crashed` and `heartbeat_lost` are retried (from the
 * checkpoint); `user_error`, `timeout` and `artifact_mismatch` end the run at once;
 * `cancelled` is the user's; `max_attempts` is a run whose retries are spent (dead-lettered).
 */
export const FAILURE_REASONS = [
  'user_error',
  'timeout',
  'heartbeat_lost',
  'crashed',
  'artifact_mismatch',
  'cancelled',
  'max_attempts',
] as const
export type FailureReason = (typeof FAILURE_REASONS)[number]

/** The reasons an attempt can end with (the others are decisions about the run). */
export type AttemptFailureReason = Exclude<FailureReason, 'cancelled' | 'max_attempts'>

export const RETRYABLE_REASONS: readonly AttemptFailureReason[] = ['crashed', 'heartbeat_lost']

export function isRetryable(reason: AttemptFailureReason): boolean {
  return RETRYABLE_REASONS.includes(reason)
}
