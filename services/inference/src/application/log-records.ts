import {
  predictionLogRow,
  type PredictionLogRecord,
  type PredictionLogRow,
  type PredictionLogValues,
} from '@argmax/contracts'
import { elementCount, type Tensor } from '../model-server/tensors/tensor.ts'

type Scalar = string | number | boolean | null

/**
 * Turning an answered request into its `PredictionLogRecord`s: one row per prediction id with
 * the row's input values and outputs, split over as many records as needed so each message
 * (the record inside its event envelope) stays under NATS's 1 MiB payload limit.
 */

/** Room for a record's own fields and the event envelope around it. */
const RECORD_OVERHEAD_BYTES = 4 * 1024
/** What the rows of one record may take: well under NATS's 1 MiB max_payload. */
export const MAX_RECORD_ROWS_BYTES = 900 * 1024
/** A single row larger than this is logged without its inputs (said in the row). */
const MAX_ROW_BYTES = MAX_RECORD_ROWS_BYTES - RECORD_OVERHEAD_BYTES
const OMITTED_INPUTS = JSON.stringify({ _omitted: 'row too large to log' })

/**
 * The log rows of an answered request or batch chunk: row `i` of `inputs` and `outputs` under
 * `predictionIds[i]` (and `rowIndexes[i]`, for rows that are not `rowOffset` + their position).
 */
export function logRows(
  predictionIds: readonly string[],
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  rowIndexes?: readonly number[],
): PredictionLogRow[] {
  return predictionIds.map((predictionId, i) =>
    predictionLogRow(
      predictionId,
      rowValues(inputs, i, 'json'),
      rowValues(outputs, i, 'array'),
      rowIndexes?.[i],
    ),
  )
}

/** Row `row` of each tensor, by name: scalars for one value a row, JSON text otherwise. */
export function rowValues(
  tensors: readonly Tensor[],
  row: number,
  multi: 'json' | 'array',
): PredictionLogValues {
  const values: PredictionLogValues = {}
  for (const tensor of tensors) {
    const width = tensor.shape.length > 1 ? elementCount(tensor.shape.slice(1)) : 1
    if (width === 1) {
      values[tensor.name] = scalarOf(tensor, row)
      continue
    }
    const items: Scalar[] = []
    for (let i = 0; i < width; i++) items.push(scalarOf(tensor, row * width + i))
    values[tensor.name] = multi === 'json' ? JSON.stringify(items) : (items as number[])
  }
  return values
}

function scalarOf(tensor: Tensor, index: number): Scalar {
  const value = tensor.data[index]
  if (typeof value === 'string') return value
  if (typeof value === 'bigint') {
    const number = Number(value)
    return Number.isSafeInteger(number) ? number : value.toString()
  }
  if (typeof value !== 'number') return null
  if (tensor.datatype === 'BOOL') return value !== 0
  return Number.isFinite(value) ? value : null
}

export type RecordHeader = Omit<PredictionLogRecord, 'rows' | 'rowOffset'>

/** Splits rows over records of at most MAX_RECORD_ROWS_BYTES of rows each. */
export function splitRecords(
  header: RecordHeader,
  rows: PredictionLogRow[],
  firstRow = 0,
): PredictionLogRecord[] {
  // Most requests are a few rows: when even an upper bound of their JSON fits one record, they
  // are not stringified one by one here just to be measured (the log stringifies the record).
  if (rows.length > 0 && jsonBound(rows, MAX_ROW_BYTES) <= MAX_ROW_BYTES) {
    return [{ ...header, rowOffset: firstRow, rows }]
  }
  const records: PredictionLogRecord[] = []
  let current: PredictionLogRow[] = []
  let size = 0
  let offset = firstRow
  const flush = () => {
    if (current.length === 0) return
    records.push({ ...header, rowOffset: offset, rows: current })
    offset += current.length
    current = []
    size = 0
  }
  for (const row of rows) {
    let bytes = Buffer.byteLength(JSON.stringify(row))
    let kept = row
    if (bytes > MAX_ROW_BYTES) {
      kept = { ...row, inputs: OMITTED_INPUTS }
      bytes = Buffer.byteLength(JSON.stringify(kept))
    }
    if (size + bytes > MAX_RECORD_ROWS_BYTES) flush()
    current.push(kept)
    size += bytes + 1
  }
  flush()
  if (records.length === 0) records.push({ ...header, rowOffset: firstRow, rows: [] })
  return records
}

/**
 * An upper bound of the bytes of `value` as JSON (numbers at most 24 characters; strings and
 * keys as if every UTF-16 unit were escaped as \uXXXX), or something above `cap` as soon as
 * the bound passes it.
 */
function jsonBound(value: unknown, cap: number): number {
  if (value === null || typeof value === 'boolean') return 5
  if (typeof value === 'number') return 24
  if (typeof value === 'string') return value.length * 6 + 2
  let total = 2
  if (Array.isArray(value)) {
    for (const item of value) {
      total += jsonBound(item, cap) + 1
      if (total > cap) return total
    }
    return total
  }
  if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue
      total += key.length * 6 + 4 + jsonBound(item, cap)
      if (total > cap) return total
    }
    return total
  }
  return cap + 1
}
