import type {
  StoredObject,
  TrainingRunQueuedData,
  TrainingRunSucceededData,
} from '@argmax/contracts'
import type {
  AttemptFailureReason,
  DatasetRef,
  Priority,
  RunResources,
  TrainerSpec,
} from './run.types.ts'

/**
 * Events of a training run, subject `training.run.<runId>` of stream TRAINING. Each decision
 * is exactly one event, so a process that dies between two appends never leaves a half-made
 * decision. `TrainingRunQueued` and `TrainingRunSucceeded` carry the published language's
 * payloads (`@argmax/contracts`) unchanged, plus what training itself needs.
 */
export interface TrainingRunQueued {
  type: 'TrainingRunQueued'
  data: Omit<TrainingRunQueuedData, 'dataset'> & {
    /** The contract's `{datasetId, versionId}` and where the file is. */
    dataset: DatasetRef
    /** More versions of the same table trained on, read after `dataset` (lineage: all of them). */
    extraDatasets?: DatasetRef[]
    trainer: TrainerSpec
    target: string
    /** The feature columns: as given, or every other usable column of the version's schema. */
    features: string[]
    /** False when the user named none: the trainer then picks every usable column itself. */
    featuresGiven: boolean
    /** The trainer's hyper-parameters as given (validated; defaults are the trainer's). */
    params: Record<string, unknown>
    priority: Priority
    resources: RunResources
    timeoutSeconds: number
    seed: number
    /** Rounds between checkpoints, when the user set it. */
    checkpointEvery?: number
    /** Attempts before the run is dead-lettered. */
    maxAttempts: number
    /** SHA-256 of the canonical request under an `Idempotency-Key`. */
    requestHash?: string
  }
}

export interface TrainingAttemptStarted {
  type: 'TrainingAttemptStarted'
  data: {
    runId: string
    attempt: number
    /** The runner that starts it: `local` or `kubernetes`. */
    runner: string
    /** The priority it was dispatched at (`low` for retries). */
    priority: Priority
    startedAt: string
    /** When the run's timeout ends (first attempt's start + timeout): the job's hard limit. */
    deadline: string
  }
}

/** An attempt failed in a way worth retrying, and attempts are left: back in the queue. */
export interface TrainingAttemptFailed {
  type: 'TrainingAttemptFailed'
  data: {
    runId: string
    attempt: number
    reason: AttemptFailureReason
    message: string
    logTail: string
    exitCode?: number
    failedAt: string
    retry: { attempt: number; notBefore: string; priority: Priority }
  }
}

export interface TrainingRunSucceeded {
  type: 'TrainingRunSucceeded'
  data: TrainingRunSucceededData
}

export interface TrainingRunFailed {
  type: 'TrainingRunFailed'
  data: {
    runId: string
    ownerId: string
    /** The attempt that failed (0 when none had started). */
    attempt: number
    reason: 'user_error' | 'timeout' | 'artifact_mismatch'
    message: string
    logTail: string
    exitCode?: number
    failedAt: string
  }
}

export interface TrainingRunDeadLettered {
  type: 'TrainingRunDeadLettered'
  data: {
    runId: string
    ownerId: string
    attempt: number
    reason: 'max_attempts'
    /** Why the last attempt failed. */
    lastReason: AttemptFailureReason
    message: string
    logTail: string
    exitCode?: number
    deadLetteredAt: string
  }
}

export interface TrainingRunCancelled {
  type: 'TrainingRunCancelled'
  data: {
    runId: string
    ownerId: string
    /** The attempt that was running (its job is killed), or null when the run was waiting. */
    attempt: number | null
    by: string
    cancelledAt: string
  }
}

/** An admin gave a dead-lettered run another round of attempts. */
export interface TrainingRunRetried {
  type: 'TrainingRunRetried'
  data: {
    runId: string
    ownerId: string
    by: string
    /** The run may now go up to this attempt number. */
    attemptsAllowed: number
    retriedAt: string
  }
}

/** An admin gave up on a dead-lettered run: it ends FAILED (`max_attempts`). */
export interface TrainingRunDiscarded {
  type: 'TrainingRunDiscarded'
  data: { runId: string; ownerId: string; by: string; discardedAt: string }
}

/** A finished run's record was written to S3 and left the read model; its events stay. */
export interface TrainingRunArchived {
  type: 'TrainingRunArchived'
  data: { runId: string; archive: StoredObject; archivedAt: string }
}

export type RunEvent = (
  | TrainingRunQueued
  | TrainingAttemptStarted
  | TrainingAttemptFailed
  | TrainingRunSucceeded
  | TrainingRunFailed
  | TrainingRunDeadLettered
  | TrainingRunCancelled
  | TrainingRunRetried
  | TrainingRunDiscarded
  | TrainingRunArchived
) & { id?: string }

export const RUN_EVENT_TYPES = [
  'TrainingRunQueued',
  'TrainingAttemptStarted',
  'TrainingAttemptFailed',
  'TrainingRunSucceeded',
  'TrainingRunFailed',
  'TrainingRunDeadLettered',
  'TrainingRunCancelled',
  'TrainingRunRetried',
  'TrainingRunDiscarded',
  'TrainingRunArchived',
] as const satisfies ReadonlyArray<RunEvent['type']>

/** Events after which a run holds no concurrency slot of its owner. */
export const RUN_RELEASING_EVENTS: ReadonlyArray<RunEvent['type']> = [
  'TrainingRunSucceeded',
  'TrainingRunFailed',
  'TrainingRunDeadLettered',
  'TrainingRunCancelled',
  'TrainingRunDiscarded',
]
