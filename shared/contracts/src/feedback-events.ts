import type { StoredObject } from './artifacts.ts'

/**
 * What the feedback context publishes for others (stream `FEEDBACK`):
 *
 * - `RetrainRequested` on `feedback.model.<name>`: a monitor or an Alertmanager alert asking for
 *   a retrain (the training pipeline reacts).
 * - `FeedbackDatasetPinned` on `feedback.model.<name>`: the feedback dataset an operator wants
 *   the next retrains of that model to use.
 * - `FeedbackDatasetMaterialized` on `feedback.dataset.<id>`: a snapshot of labelled predictions
 *   written to S3; the dataset context registers it as a new dataset version (validated like an
 *   upload, with this lineage) under the ids the event names.
 */
export interface RetrainRequestedData {
  model: string
  /** The version whose quality or drift caused it, when one did. */
  version?: number
  /** `monitor`, `alertmanager`, `labels`, `manual` */
  trigger: string
  monitorId?: string
  reason: string
  /** The values that caused it (metric, threshold, window, label count …). */
  evidence: Record<string, unknown>
  requestedAt: string
}

/** Which labelled predictions a feedback dataset holds. */
export type FeedbackDatasetSelection =
  | { kind: 'window'; window: string }
  | { kind: 'version'; version: number }
  | { kind: 'release'; version: number; releasedAt: string }

export interface FeedbackDatasetMaterializedData {
  /** The feedback dataset (aggregate `feedback.dataset.<id>`). */
  feedbackDatasetId: string
  model: string
  /** The model's owner: the dataset and its versions belong to them. */
  ownerId: string
  /** Who asked for it (a JWT subject). */
  requestedBy: string
  selection: FeedbackDatasetSelection
  /** Model versions whose predictions it holds. */
  versions: number[]
  /** Prediction times covered: `from` inclusive, `to` exclusive (ISO-8601). */
  window: { from: string; to: string }
  /** The snapshot's bytes, in the analytics bucket. */
  object: StoredObject
  format: 'csv' | 'jsonl'
  rowCount: number
  /** Input columns, in the order of the model's signature, then the label column. */
  features: string[]
  labelColumn: string
  /**
   * Where the dataset context registers it: the dataset (created on first use, named
   * `datasetName`, owned by `ownerId`) and the new version's id — chosen by feedback, so both
   * contexts know them without asking each other.
   */
  target: { datasetId: string; datasetName: string; versionId: string; fileName: string }
  materializedAt: string
}

export interface FeedbackDatasetPinnedData {
  model: string
  /** null: unpinned (retrains use the latest feedback dataset again). */
  feedbackDatasetId: string | null
  datasetId: string | null
  datasetVersionId: string | null
  pinnedBy: string
  pinnedAt: string
}

export const FEEDBACK_EVENTS = {
  retrainRequested: 'RetrainRequested',
  datasetMaterialized: 'FeedbackDatasetMaterialized',
  datasetPinned: 'FeedbackDatasetPinned',
} as const

/** Lineage of a dataset version the platform wrote itself (carried by its `UploadStarted`). */
export interface PlatformVersionLineage {
  kind: 'feedback'
  feedbackDatasetId: string
  model: string
  versions: number[]
  window: { from: string; to: string }
  source: StoredObject
}
