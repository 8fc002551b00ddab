import { deterministicUuid } from '@argmax/events'
import type { ModelTask } from '@argmax/contracts'

/**
 * Ground truth as it travels: a request's labels are checked row by row (pure, here), then
 * published to `FEEDBACK_LOG` as `LabelsReceived` records of at most a few hundred KiB each, and
 * a sink writes them to ClickHouse. Every row of every request is one **receipt** (`labelId`);
 * the current label of a prediction is the receipt with the highest `revision`.
 */

/** What a caller sends per prediction: a number (regression) or a class (classification). */
export type LabelValue = number | string

export interface LabelInput {
  predictionId: string
  value: LabelValue
}

/** The record type on `FEEDBACK_LOG`. */
export const LABELS_RECEIVED = 'LabelsReceived'

export interface LabelRecord {
  /** One receipt: the request (or import) and the row. */
  labelId: string
  predictionId: string
  model: string
  version: number
  /** When the prediction was made (from its id), ISO-8601 with milliseconds. */
  predictionTime: string
  value: LabelValue
  /**
   * Orders the receipts of one prediction: receipt time in ms × 1000 plus the row's rank among
   * the rows of the same request naming the same prediction (a later row wins). Below 2^53.
   */
  revision: number
}

export interface LabelsReceivedData {
  /** The request (or import) the labels came in. */
  requestId: string
  /** `api` or `import:<importId>`. */
  source: string
  receivedAt: string
  labels: LabelRecord[]
}

/** A label the checks accepted, with what its prediction id says. */
export interface CheckedLabel {
  predictionId: string
  model: string
  version: number
  issuedAt: Date
  value: LabelValue
}

/** The output a label is checked against: the version's task and, for classification, classes. */
export interface LabelTarget {
  task: ModelTask
  classes?: readonly string[]
}

/**
 * Why a value does not fit its model version's output, or the value to record. A class may be
 * sent as a number when the class names are numbers (`1` for the class `"1"`).
 */
export function checkLabelValue(
  value: unknown,
  target: LabelTarget,
  options: { fromText?: boolean } = {},
): { ok: true; value: LabelValue } | { ok: false; message: string } {
  if (target.task === 'regression') {
    // A file's cells are text: "6.5" is the number 6.5 there (never in a JSON request).
    if (options.fromText && typeof value === 'string' && NUMBER_TEXT.test(value.trim())) {
      value = Number(value.trim())
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return { ok: false, message: 'must be a finite number: the model is a regression' }
    }
    return { ok: true, value }
  }
  const classes = target.classes ?? []
  const name = typeof value === 'number' && Number.isFinite(value) ? String(value) : value
  if (typeof name !== 'string') {
    return { ok: false, message: 'must be one of the classes (a string): the model classifies' }
  }
  if (!classes.includes(name)) {
    const shown = classes.slice(0, 20).map((c) => JSON.stringify(c))
    const more = classes.length > 20 ? ` and ${classes.length - 20} more` : ''
    return {
      ok: false,
      message: `must be one of the model version's classes: ${shown.join(', ')}${more}`,
    }
  }
  return { ok: true, value: name }
}

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

export function labelId(requestId: string, row: number): string {
  return deterministicUuid(`feedback.label:${requestId}:${row}`)
}

export function labelRecordId(requestId: string, chunk: number): string {
  return deterministicUuid(`feedback.labels-received:${requestId}:${chunk}`)
}

/**
 * Receipts of one request as records, in row order (`row`: the row of the request or file, which
 * names the receipt). `seen` carries the ranks across the chunks of one import.
 */
export function toLabelRecords(
  requestId: string,
  receivedAt: Date,
  labels: ReadonlyArray<CheckedLabel & { row: number }>,
  seen: Map<string, number> = new Map(),
): LabelRecord[] {
  const base = receivedAt.getTime() * 1000
  return labels.map((label) => {
    const rank = seen.get(label.predictionId) ?? 0
    seen.set(label.predictionId, rank + 1)
    return {
      labelId: labelId(requestId, label.row),
      predictionId: label.predictionId,
      model: label.model,
      version: label.version,
      predictionTime: label.issuedAt.toISOString(),
      value: label.value,
      revision: base + Math.min(rank, 999),
    }
  })
}

/** Largest record body: well under NATS's 1 MiB payload limit with the envelope around it. */
export const MAX_RECORD_BYTES = 512 * 1024

/**
 * Splits records into `LabelsReceived` payloads under MAX_RECORD_BYTES each. A label is at most
 * a few KiB (ids and class names are bounded), so every chunk fits by construction.
 */
export function chunkLabels(
  records: readonly LabelRecord[],
  maxBytes = MAX_RECORD_BYTES,
): LabelRecord[][] {
  const chunks: LabelRecord[][] = []
  let current: LabelRecord[] = []
  let bytes = 0
  for (const record of records) {
    const size = labelRecordBytes(record) + 1
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(record)
    bytes += size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

/** A record's keys and punctuation: its JSON with empty strings and zeros, less those (8 + 3). */
const RECORD_PUNCTUATION_BYTES =
  JSON.stringify({
    labelId: '',
    predictionId: '',
    model: '',
    version: 0,
    predictionTime: '',
    value: 0,
    revision: 0,
  } satisfies LabelRecord).length - 11

const PLAIN_JSON_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/** Whether JSON writes `text` as it is between its quotes: printable ASCII but `"` and `\`. */
export function isPlainJsonText(text: string): boolean {
  return PLAIN_JSON_TEXT.test(text)
}

/**
 * The UTF-8 size of a record's JSON, counted without writing it: encoding every label once just
 * to measure it showed in the profile of 10,000-label requests, next to the encoding that
 * follows. Equal to `Buffer.byteLength(JSON.stringify(record))` for a LabelRecord.
 */
export function labelRecordBytes(record: LabelRecord): number {
  return (
    RECORD_PUNCTUATION_BYTES +
    jsonStringBytes(record.labelId) +
    jsonStringBytes(record.predictionId) +
    jsonStringBytes(record.model) +
    String(record.version).length +
    jsonStringBytes(record.predictionTime) +
    (typeof record.value === 'number'
      ? String(record.value).length
      : jsonStringBytes(record.value)) +
    String(record.revision).length
  )
}

/** A string's JSON (quotes included) in UTF-8 bytes; ids and times take the fast path. */
function jsonStringBytes(text: string): number {
  return isPlainJsonText(text) ? text.length + 2 : Buffer.byteLength(JSON.stringify(text))
}
