import type { PredictionLogRecord } from '@argmax/contracts'
import { clickhouseDate, clickhouseDateTime } from '@argmax/analytics'

/** A row of `argmax.predictions` (see shared/analytics' migration and docs/analytics.md). */
export interface PredictionRow {
  prediction_id: string
  request_id: string
  time: string
  time_ms: number
  date: string
  model: string
  version: number
  variant: string
  release_sequence: number | null
  caller: string
  protocol: string
  status: string
  error: string
  latency_ms: number
  inputs: string
  outputs: string
  prediction: number | null
  predicted_class: string | null
  batch_id: string
  row_index: number
}

/**
 * The ClickHouse rows of one log record: one per prediction id, or — for a request that
 * failed — one keyed `error:<record id>`. A pure function of the record and its envelope id,
 * so a record handled twice (a redelivery after a crash) yields identical rows, which the
 * table's ReplacingMergeTree key collapses.
 */
export function predictionRows(recordId: string, record: PredictionLogRecord): PredictionRow[] {
  const time = new Date(record.time)
  const base = {
    request_id: record.requestId,
    time: clickhouseDateTime(time),
    time_ms: time.getUTCMilliseconds(),
    date: clickhouseDate(time),
    model: record.model,
    version: record.version,
    variant: record.variant,
    release_sequence: record.releaseSequence,
    caller: record.caller,
    protocol: record.protocol,
    status: record.status,
    error: record.error ?? '',
    latency_ms: record.latencyMs,
    batch_id: record.batchId ?? '',
  }
  if (record.rows.length === 0) {
    return [
      {
        ...base,
        prediction_id: `error:${recordId}`,
        inputs: '{}',
        outputs: '{}',
        prediction: null,
        predicted_class: null,
        row_index: record.rowOffset ?? 0,
      },
    ]
  }
  return record.rows.map((row, i) => ({
    ...base,
    prediction_id: row.predictionId,
    inputs: JSON.stringify(row.inputs),
    outputs: JSON.stringify(row.outputs),
    prediction: regressionValue(row.outputs),
    predicted_class: typeof row.outputs['label'] === 'string' ? row.outputs['label'] : null,
    row_index: (record.rowOffset ?? 0) + i,
  }))
}

/**
 * The number a regression answered: the contract's `predictions` output, or else the only
 * output when there is one and it is a number (e.g. a v2 model whose output has another name).
 */
function regressionValue(outputs: PredictionLogRecord['rows'][number]['outputs']): number | null {
  const named = outputs['predictions']
  if (typeof named === 'number') return named
  const values = Object.values(outputs)
  if (values.length === 1) {
    const [only] = values
    if (typeof only === 'number') return only
    if (Array.isArray(only) && only.length === 1 && typeof only[0] === 'number') return only[0]
  }
  return null
}
