import type { StoredObject } from './artifacts.ts'
import type { ModelTask } from './model-signature.ts'

/**
 * What the training context publishes for others (stream `TRAINING`, subject
 * `training.run.<runId>`): the registry registers a version from `TrainingRunSucceeded` and
 * creates a model on first use from `TrainingRunQueued`; the retrain pipeline follows both.
 * Training's own domain events include these shapes unchanged.
 */
export interface TrainingRunQueuedData {
  runId: string
  /** The registry model name the result is registered under (created on first use). */
  model: string
  ownerId: string
  task: ModelTask
  dataset: { datasetId: string; versionId: string }
  queuedAt: string
}

export interface TrainingRunSucceededData {
  runId: string
  /** The attempt (1, 2, …) whose artifacts these are. */
  attempt: number
  model: string
  ownerId: string
  task: ModelTask
  trainer: {
    /** `xgboost`, `linear`, or `custom` */
    name: string
    /** Container image for custom trainers (and the cluster's built-in image). */
    image?: string
    /** The trainer code's version (git commit or package version). */
    codeVersion: string
  }
  target: string
  features: string[]
  params: Record<string, unknown>
  seed: number
  /** Lineage: the exact dataset version trained on. */
  dataset: { datasetId: string; versionId: string; sha256: string }
  /**
   * More dataset versions read after `dataset` as one table (a retrain on the base version
   * plus a feedback dataset). Absent when there were none and from older events.
   */
  extraDatasets?: Array<{ datasetId: string; versionId: string; sha256: string }>
  artifacts: {
    /** `model.onnx`, verified against the trainer's own predictions before this event. */
    model: StoredObject
    /** `schema.json`: the `ModelSignature`. */
    signature: StoredObject
    metrics: StoredObject
    native?: StoredObject
    predictionsSample?: StoredObject
    reproducibility?: StoredObject
    log?: StoredObject
    /**
     * `holdout.jsonl`: test records (at most the configured number, a seeded sample) as
     * `{"row", "inputs", "target"}`, inputs as the model's tensors take them. Retrain pipelines
     * score this model and the serving version on it. Absent from custom trainers that do not
     * write it and from older events.
     */
    holdout?: StoredObject
  }
  /** Test-split metrics and their trivial baselines, flat: `rmse`, `mae`, `r2`, `baseline_rmse`… */
  metrics: Record<string, number>
  /** Library name → version (xgboost, scikit-learn, onnx, python…). */
  libraries: Record<string, string>
  succeededAt: string
}

export const TRAINING_EVENTS = {
  runQueued: 'TrainingRunQueued',
  runSucceeded: 'TrainingRunSucceeded',
} as const
