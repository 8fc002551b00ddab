/**
 * The record of one answered request, published by the inference gateway to the
 * `INFERENCE_LOG` stream (subject `inference.log.<model>`) and written by a sink into
 * ClickHouse (`argmax.predictions`, one row per prediction id). A log record, not a domain
 * event. The gateway splits a large request's rows over several records so that each message
 * stays under NATS's payload limit; rows are keyed by prediction id, so a re-sent record is
 * harmless.
 */
export interface PredictionLogRecord {
  requestId: string
  /** ISO-8601 with milliseconds. */
  time: string
  model: string
  version: number
  /** Which part of the release answered: `stable`, `canary`, `shadow` (never returned) or `pinned` (the path named the version). */
  variant: 'stable' | 'canary' | 'shadow' | 'pinned'
  /** The REGISTRY stream sequence of the release that routed it (null when pinned). */
  releaseSequence: number | null
  /** JWT subject of the caller. */
  caller: string
  protocol: 'grpc' | 'rest'
  status: 'success' | 'error'
  error?: string
  latencyMs: number
  /** Set by batch predictions: the batch the rows belong to. */
  batchId?: string
  /** Index (in the request, or in a batch's input file) of `rows[0]`; 0 when absent. */
  rowOffset?: number
  rows: PredictionLogRow[]
}

/**
 * Several records in one message (event type `PredictionsLogged`; a single record is
 * `PredictionLogged` with the record as its data): the gateway groups the records of one model
 * that are ready while earlier ones are being published, so a busy gateway publishes (and
 * JetStream acknowledges) one message for many requests. Same subject, same limit: under
 * NATS's 1 MiB payload (the gateway groups up to 64 KiB).
 */
export interface PredictionLogBatch {
  records: PredictionLogRecord[]
}

export interface PredictionLogRow {
  predictionId: string
  /** The row's index in its request or batch input file, when not `rowOffset` + its position. */
  row?: number
  /**
   * Input column → raw value as sent (null for missing). A row of a multi-dimensional input is
   * its values as a JSON array in a string.
   */
  inputs: Record<string, string | number | boolean | null>
  /**
   * Output name → value (a number, a class label, or an array of probabilities). An output
   * with one value per row (shape [-1] or [-1, 1]) is that value; null for NaN.
   */
  outputs: Record<string, string | number | number[] | null>
}
