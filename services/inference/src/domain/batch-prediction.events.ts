import type { StoredObject } from '@argmax/contracts'

/**
 * Events of a batch prediction, subject `inference.batch.<batchId>` of stream `INFERENCE`:
 * QUEUED → RUNNING → SUCCEEDED | FAILED. What it runs is fixed when it is requested (the
 * version, resolved from an alias if one was given; the dataset version's file), so a run
 * started again after a crash computes the same rows with the same prediction ids.
 */
export interface BatchInput {
  datasetId: string
  versionId: string
  bucket: string
  objectKey: string
  format: 'csv' | 'jsonl'
  sha256: string
  size: number
}

export interface BatchPredictionRequested {
  type: 'BatchPredictionRequested'
  data: {
    batchId: string
    ownerId: string
    model: string
    version: number
    /** The release role it was resolved from, when the request named one instead of a version. */
    alias?: 'stable' | 'canary' | 'shadow'
    input: BatchInput
    /** Where the predictions are written (JSON Lines). */
    output: { bucket: string; key: string }
    requestedAt: string
    requestHash?: string
  }
}

export interface BatchPredictionProgressed {
  type: 'BatchPredictionProgressed'
  data: { batchId: string; rowsDone: number; rowsFailed: number; at: string }
}

export interface BatchPredictionSucceeded {
  type: 'BatchPredictionSucceeded'
  data: {
    batchId: string
    rowsDone: number
    rowsFailed: number
    output: StoredObject
    finishedAt: string
  }
}

export interface BatchPredictionFailed {
  type: 'BatchPredictionFailed'
  data: { batchId: string; reason: string; finishedAt: string }
}

export type BatchPredictionEvent = (
  | BatchPredictionRequested
  | BatchPredictionProgressed
  | BatchPredictionSucceeded
  | BatchPredictionFailed
) & { id?: string }

export const BATCH_PREDICTION_EVENT_TYPES = [
  'BatchPredictionRequested',
  'BatchPredictionProgressed',
  'BatchPredictionSucceeded',
  'BatchPredictionFailed',
] as const satisfies ReadonlyArray<BatchPredictionEvent['type']>
