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
   * The row's inputs as JSON text: input column → raw value as sent (null for missing); a row of
   * a multi-dimensional input is its values as a JSON array in a string. Text, not an object:
   * the gateway serialises the row once to publish it, and the sink writes this text to
   * ClickHouse as is, instead of parsing it into objects and serialising it back per row.
   */
  inputs: string
  /**
   * The row's outputs as JSON text: output name → value (a number, a class label, or an array
   * of probabilities). An output with one value per row (shape [-1] or [-1, 1]) is that value;
   * null for NaN.
   */
  outputs: string
  /** What a regression answered (`predictionOf`); absent when the outputs hold no such number. */
  prediction?: number
  /** What a classifier answered: the `label` output when it is text; absent otherwise. */
  predictedClass?: string
}

/**
 * The schemaVersion of `PredictionLogged` and `PredictionsLogged` messages written today: rows
 * carry their inputs and outputs as JSON text and their prediction beside them. Messages of
 * schemaVersion 1 (rows with inputs and outputs as objects) may still be in `INFERENCE_LOG`
 * after an upgrade; readers walk them up with `upcastPredictionLogRecordV1`.
 */
export const PREDICTION_LOG_SCHEMA_VERSION = 2

/** A row's values by name, as the gateway reads them from its tensors. */
export type PredictionLogValues = Record<string, string | number | boolean | null | number[]>

/**
 * The log row of one prediction, from its input and output values: the one place that decides
 * the row's JSON text and its `prediction` and `predictedClass`.
 */
export function predictionLogRow(
  predictionId: string,
  inputs: PredictionLogValues,
  outputs: PredictionLogValues,
  row?: number,
): PredictionLogRow {
  const logged: PredictionLogRow = {
    predictionId,
    inputs: JSON.stringify(inputs),
    outputs: JSON.stringify(outputs),
  }
  if (row !== undefined) logged.row = row
  const prediction = predictionOf(outputs)
  if (prediction !== null) logged.prediction = prediction
  const label = outputs['label']
  if (typeof label === 'string') logged.predictedClass = label
  return logged
}

/**
 * The number a regression answered: the contract's `predictions` output, or else the only
 * output when there is one and it is a number (e.g. a v2 model whose output has another name).
 */
export function predictionOf(outputs: PredictionLogValues): number | null {
  const named = outputs['predictions']
  if (typeof named === 'number') return named
  let only: unknown
  let count = 0
  for (const key in outputs) {
    only = outputs[key]
    if (++count > 1) return null
  }
  if (typeof only === 'number') return only
  if (Array.isArray(only) && only.length === 1 && typeof only[0] === 'number') return only[0]
  return null
}

/** A row as schemaVersion 1 wrote it: inputs and outputs as objects. */
export interface PredictionLogRowV1 {
  predictionId: string
  row?: number
  inputs: Record<string, string | number | boolean | null>
  outputs: Record<string, string | number | number[] | null>
}

/** A record as schemaVersion 1 wrote it (`PredictionLogged`'s data, or one of a batch's). */
export type PredictionLogRecordV1 = Omit<PredictionLogRecord, 'rows'> & {
  rows: PredictionLogRowV1[]
}

/**
 * A schemaVersion 1 record in today's shape: each row's objects written as the JSON text the
 * sink wrote for them (`JSON.stringify` of the parsed objects), so ClickHouse gets the same
 * bytes from an old message as before.
 */
export function upcastPredictionLogRecordV1(record: PredictionLogRecordV1): PredictionLogRecord {
  return {
    ...record,
    rows: record.rows.map((row) =>
      predictionLogRow(row.predictionId, row.inputs, row.outputs, row.row),
    ),
  }
}
