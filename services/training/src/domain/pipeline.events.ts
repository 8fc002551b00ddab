import type { StoredObject } from '@argmax/contracts'
import type { BuiltinTrainerName } from './run.types.ts'

/**
 * A model's retrain pipeline and its runs, all on one subject: `training.pipeline.<model>` of
 * stream TRAINING. One subject per model is what makes "one active run per model" hold across
 * processes: every trigger is decided on the model's whole history with the expected sequence,
 * so of two concurrent triggers one starts the run and the other is recorded as coalesced.
 * Each step of a run is one event with its inputs and outputs.
 */

export const PIPELINE_TRIGGER_KINDS = ['retrain_requested', 'labels', 'schedule', 'manual'] as const
export type PipelineTriggerKind = (typeof PIPELINE_TRIGGER_KINDS)[number]

export type MetricDirection = 'lower_is_better' | 'higher_is_better'

export const PIPELINE_DATA_SOURCES = ['pinned_feedback', 'base', 'fresh_feedback'] as const
export const DEFAULT_MIN_FEEDBACK_ROWS = 100
export type PipelineDataSource = (typeof PIPELINE_DATA_SOURCES)[number]

export interface GuardMetric {
  metric: string
  direction: MetricDirection
  /** How much worse than the serving version it may be, relative (0.01 = 1 %; default 0). */
  tolerance: number
}

/** What a pipeline does; kept whole on every run it starts (a later update changes no run). */
export interface PipelineConfig {
  /** A paused pipeline records triggers but starts no run (an admin's `trigger` still does). */
  enabled: boolean
  triggers: {
    /** React to feedback's `RetrainRequested` (monitors, Alertmanager). */
    retrainRequested: boolean
    /** Start when a `labels` monitor reports at least this many new labels (null: off). */
    labelThreshold: number | null
    /** A 5-field cron expression, UTC (null: off). */
    schedule: string | null
  }
  data: {
    /**
     * `pinned_feedback`: the feedback dataset pinned for the model (falling back to
     * `datasetVersionId` while none is pinned); `base`: always `datasetVersionId`;
     * `fresh_feedback`: `datasetVersionId` and, read after it as one table, a feedback dataset
     * of the labelled predictions since the serving version's release, built for the run
     * (the base alone while nothing serves the model).
     */
    source: PipelineDataSource
    datasetVersionId: string
    /** `fresh_feedback`: fewer labelled rows than this fail the run rather than train on them. */
    minFeedbackRows: number
  }
  training: {
    target: string
    features?: string[]
    trainer: BuiltinTrainerName
    params: Record<string, unknown>
    seed: number
  }
  evaluation: {
    metric: string
    direction: MetricDirection
    /** Better than the serving version by at least this, relative (0.02 = 2 %). */
    margin: number
    guards: GuardMetric[]
  }
  /**
   * Re-score a dataset version with the candidate (a batch prediction in the inference
   * service) before the hand-over, while the serving version keeps serving: the backfill of
   * predictions a new version needs. null: no such step.
   */
  rescore: { datasetVersionId: string } | null
  requireApproval: boolean
  rollout: {
    steps?: number[]
    criteria?: Record<string, unknown>
    requireApproval?: boolean
  }
}

export interface PipelineTrigger {
  kind: PipelineTriggerKind
  /** Who or what: a JWT subject, `system:feedback`, `system:schedule`. */
  by: string
  reason: string
  evidence: Record<string, unknown>
  /** The event that caused it (a `RetrainRequested`'s id): a redelivery is recognised. */
  sourceEventId?: string
  /** `schedule`: the cron slot it fires for (one run per slot whoever ticks). */
  slot?: string
  at: string
}

export interface PipelineCreated {
  type: 'PipelineCreated'
  data: {
    model: string
    ownerId: string
    config: PipelineConfig
    createdBy: string
    createdAt: string
    requestHash?: string
  }
}

export interface PipelineUpdated {
  type: 'PipelineUpdated'
  data: { model: string; config: PipelineConfig; updatedBy: string; updatedAt: string }
}

/** Feedback pinned (or unpinned: nulls) the dataset the model's retrains should use. */
export interface PipelineDataSourcePinned {
  type: 'PipelineDataSourcePinned'
  data: {
    model: string
    feedbackDatasetId: string | null
    datasetId: string | null
    datasetVersionId: string | null
    pinnedBy: string
    pinnedAt: string
    sourceEventId: string
  }
}

export interface PipelineRunStarted {
  type: 'PipelineRunStarted'
  data: {
    model: string
    /** `<model>.<n>`. */
    pipelineRunId: string
    n: number
    trigger: PipelineTrigger
    config: PipelineConfig
    startedAt: string
  }
}

/** A trigger while a run was active: recorded, merged into that run, never a second run. */
export interface PipelineTriggerCoalesced {
  type: 'PipelineTriggerCoalesced'
  data: { model: string; pipelineRunId: string; trigger: PipelineTrigger; coalescedAt: string }
}

/** A trigger the pipeline does not act on (disabled, kind off, under the label threshold). */
export interface PipelineTriggerIgnored {
  type: 'PipelineTriggerIgnored'
  data: { model: string; trigger: PipelineTrigger; why: string; ignoredAt: string }
}

/** `fresh_feedback`: feedback was asked for a dataset of the labelled predictions since the release. */
export interface PipelineFeedbackRequested {
  type: 'PipelineFeedbackRequested'
  data: {
    model: string
    pipelineRunId: string
    /** Its dataset version, once feedback registered it, has the same id. */
    feedbackDatasetId: string
    /** The serving version whose release the selection starts at. */
    servingVersion: number
    requestedAt: string
  }
}

export interface PipelineDataPrepared {
  type: 'PipelineDataPrepared'
  data: {
    model: string
    pipelineRunId: string
    source: PipelineDataSource
    feedbackDatasetId?: string
    /** The first version trained on (the base, or the pinned feedback dataset's). */
    datasetVersionId: string
    /** Every version trained on, read in this order as one table (absent from older events). */
    datasetVersionIds?: string[]
    /** `fresh_feedback`: the labelled rows the feedback dataset holds. */
    feedbackRows?: number
    /** Why the data is not what the source says (e.g. nothing serves yet: the base alone). */
    note?: string
    preparedAt: string
  }
}

export interface PipelineTrainingStarted {
  type: 'PipelineTrainingStarted'
  data: { model: string; pipelineRunId: string; runId: string; startedAt: string }
}

export interface PipelineTrainingFinished {
  type: 'PipelineTrainingFinished'
  data: {
    model: string
    pipelineRunId: string
    runId: string
    outcome: 'succeeded' | 'failed' | 'cancelled'
    /** The run's test metrics (succeeded). */
    metrics: Record<string, number>
    /** The dataset version and seed it was tested with: what defines its holdout. */
    datasetVersionId: string
    seed: number
    message?: string
    finishedAt: string
  }
}

/** The serving version's side of an evaluation: re-scored on the candidate's holdout. */
export interface ServingSide {
  version: number
  /** Its `model.onnx`, as the registry's `ModelVersionRegistered` named it. */
  artifact: StoredObject
  /** On the holdout (the same rows and the same metric code as the candidate's). */
  metrics: Record<string, number>
  /** Its test metrics as the registry recorded them (on its own test split: context only). */
  recordedMetrics: Record<string, number>
}

/** The rows both sides were scored on: the candidate's test split (`holdout.jsonl`). */
export interface EvaluationHoldout {
  object: StoredObject
  rows: number
}

export interface MetricCheck {
  metric: string
  role: 'gate' | 'guard'
  direction: MetricDirection
  candidate: number | null
  serving: number | null
  /** Relative improvement of the candidate (positive: better), null when not computable. */
  improvement: number | null
  /** gate: the margin to reach; guard: minus the tolerance. */
  required: number
  passed: boolean
}

export interface PipelineEvaluated {
  type: 'PipelineEvaluated'
  data: {
    model: string
    pipelineRunId: string
    candidate: {
      runId: string
      datasetVersionId: string
      seed: number
      /** On the holdout, beside the serving version's (empty when nothing serves). */
      metrics: Record<string, number>
      /** Its test metrics as the training run recorded them. */
      trainingMetrics: Record<string, number>
    }
    /** null: nothing serves the model yet (nothing to beat, nothing scored). */
    serving: ServingSide | null
    /** What both were scored on; null when nothing serves. */
    holdout: EvaluationHoldout | null
    checks: MetricCheck[]
    /** The whole comparison as JSON in the models bucket (`pipelines/<model>/<run>/evaluation.json`). */
    details?: StoredObject
    evaluatedAt: string
  }
}

export interface PipelineGatePassed {
  type: 'PipelineGatePassed'
  data: {
    model: string
    pipelineRunId: string
    checks: MetricCheck[]
    reasons: string[]
    at: string
  }
}

/** The run stops here: never registered as challenger, never rolled out. */
export interface PipelineGateFailed {
  type: 'PipelineGateFailed'
  data: {
    model: string
    pipelineRunId: string
    checks: MetricCheck[]
    reasons: string[]
    at: string
  }
}

export interface PipelineRegistered {
  type: 'PipelineRegistered'
  data: { model: string; pipelineRunId: string; version: number; alias: string; at: string }
}

/**
 * The candidate is loaded on the model servers (the gateway's placement loads the `challenger`
 * before any release routes to it), so its canary starts warm; or why the step was skipped.
 */
export interface PipelineWarmed {
  type: 'PipelineWarmed'
  data: {
    model: string
    pipelineRunId: string
    version: number
    /** From registration to the gateway reporting the version ready. */
    waitedSeconds: number
    /** Set when nothing was warmed, with why (no gateway configured). */
    skipped?: string
    at: string
  }
}

/** The re-score step asked the inference service for a batch prediction by the candidate. */
export interface PipelineRescoreRequested {
  type: 'PipelineRescoreRequested'
  data: {
    model: string
    pipelineRunId: string
    version: number
    datasetVersionId: string
    /** The inference service's batch prediction (`/v1/batch-predictions/{id}`). */
    batchId: string
    at: string
  }
}

/** The batch prediction finished: where the candidate's predictions are. */
export interface PipelineRescored {
  type: 'PipelineRescored'
  data: {
    model: string
    pipelineRunId: string
    batchId: string
    rows: number
    rowsFailed: number
    /** The predictions file (JSON Lines), in the inference service's bucket. */
    result: StoredObject
    at: string
  }
}

export interface PipelineApproved {
  type: 'PipelineApproved'
  data: { model: string; pipelineRunId: string; by: string; reason: string; at: string }
}

/** The run's end when it succeeds: a rollout (or, with nothing serving, a first release). */
export interface PipelineHandedOver {
  type: 'PipelineHandedOver'
  data: {
    model: string
    pipelineRunId: string
    version: number
    /** The registry's rollout, or null when nothing served and the version was released. */
    rolloutId: string | null
    at: string
  }
}

export const PIPELINE_FAILURE_REASONS = [
  'training_failed',
  'data_unavailable',
  'evaluation_failed',
  'registration_failed',
  'warmup_failed',
  'rescore_failed',
  'handover_failed',
] as const
export type PipelineFailureReason = (typeof PIPELINE_FAILURE_REASONS)[number]

export interface PipelineRunFailed {
  type: 'PipelineRunFailed'
  data: {
    model: string
    pipelineRunId: string
    reason: PipelineFailureReason
    message: string
    at: string
  }
}

export interface PipelineRunAborted {
  type: 'PipelineRunAborted'
  data: { model: string; pipelineRunId: string; by: string; reason: string; at: string }
}

export type PipelineEvent = (
  | PipelineCreated
  | PipelineUpdated
  | PipelineDataSourcePinned
  | PipelineRunStarted
  | PipelineTriggerCoalesced
  | PipelineTriggerIgnored
  | PipelineFeedbackRequested
  | PipelineDataPrepared
  | PipelineTrainingStarted
  | PipelineTrainingFinished
  | PipelineEvaluated
  | PipelineGatePassed
  | PipelineGateFailed
  | PipelineRegistered
  | PipelineWarmed
  | PipelineRescoreRequested
  | PipelineRescored
  | PipelineApproved
  | PipelineHandedOver
  | PipelineRunFailed
  | PipelineRunAborted
) & { id?: string }

export const PIPELINE_EVENT_TYPES = [
  'PipelineCreated',
  'PipelineUpdated',
  'PipelineDataSourcePinned',
  'PipelineRunStarted',
  'PipelineTriggerCoalesced',
  'PipelineTriggerIgnored',
  'PipelineFeedbackRequested',
  'PipelineDataPrepared',
  'PipelineTrainingStarted',
  'PipelineTrainingFinished',
  'PipelineEvaluated',
  'PipelineGatePassed',
  'PipelineGateFailed',
  'PipelineRegistered',
  'PipelineWarmed',
  'PipelineRescoreRequested',
  'PipelineRescored',
  'PipelineApproved',
  'PipelineHandedOver',
  'PipelineRunFailed',
  'PipelineRunAborted',
] as const satisfies ReadonlyArray<PipelineEvent['type']>
