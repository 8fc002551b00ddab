import type { PredictionLogRecord, PredictionLogRow } from '@argmax/contracts'
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

/** Row `row` of each tensor, by name: scalars for one value a row, JSON text otherwise. */
export function rowValues(
  tensors: readonly Tensor[],
  row: number,
  multi: 'json' | 'array',
): Record<string, Scalar | number[]> {
  const values: Record<string, Scalar | number[]> = {}
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
      kept = {
        predictionId: row.predictionId,
        inputs: { _omitted: 'row too large to log' },
        outputs: row.outputs,
      }
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
