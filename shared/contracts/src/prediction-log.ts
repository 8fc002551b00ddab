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
  rows: PredictionLogRow[]
}

export interface PredictionLogRow {
  predictionId: string
  /** Input column → raw value as sent (null for missing). */
  inputs: Record<string, string | number | boolean | null>
  /** Output name → value (a number, a class label, or an array of probabilities). */
  outputs: Record<string, string | number | number[] | null>
}
