import { tsvNumber, tsvString, tsvTimeFields } from '@argmax/analytics'
import type { RecordedEvent } from '@argmax/events'
import { LABELS_RECEIVED, type LabelsReceivedData } from '../domain/labels.ts'

/** The columns of both label tables, in the order `labelsText` writes a receipt's fields. */
export const LABEL_COLUMNS = [
  'label_id',
  'prediction_id',
  'model',
  'version',
  'prediction_time',
  'date',
  'received_at',
  'received_ms',
  'revision',
  'value_number',
  'value_class',
  'source',
  'actor',
  'request_id',
] as const

/** Receipts as TabSeparated UTF-8 in chunks of at most `chunkRows` lines (one INSERT each). */
export interface LabelsText {
  rows: number
  chunks: Buffer[]
}

/** First size of a chunk's buffer; it doubles as lines come. */
const FIRST_CHUNK_BYTES = 64 * 1024

/**
 * The receipts of `LabelsReceived` records as the label tables' rows, written straight to
 * TabSeparated bytes (no row objects: a batch holds hundreds of thousands of labels). Each line
 * goes into the chunk's buffer as it is made: joining a chunk's lines into one string and
 * encoding it for the request cost several times more, and grew faster than the batch (a
 * 100,000-label batch took half a second). The same bytes go to both tables.
 */
export function labelsText(events: readonly RecordedEvent[], chunkRows = 50_000): LabelsText {
  const chunks: Buffer[] = []
  let buffer = Buffer.allocUnsafe(FIRST_CHUNK_BYTES)
  let length = 0
  let lines = 0
  let rows = 0
  const cut = () => {
    chunks.push(buffer.subarray(0, length))
    buffer = Buffer.allocUnsafe(FIRST_CHUNK_BYTES)
    length = 0
    lines = 0
  }
  for (const event of events) {
    if (event.type !== LABELS_RECEIVED) continue
    const data = event.data as LabelsReceivedData
    // The fields every receipt of the record shares, written once.
    const receivedAt = tsvTimeFields(data.receivedAt)
    const received = `${receivedAt.dateTime}\t${receivedAt.ms}`
    const tail = `${tsvString(data.source)}\t${tsvString(event.actor)}\t${tsvString(data.requestId)}\n`
    for (const label of data.labels) {
      const { dateTime: time, date } = tsvTimeFields(label.predictionTime)
      const number = typeof label.value === 'number' ? tsvNumber(label.value) : '\\N'
      const cls = typeof label.value === 'string' ? tsvString(label.value) : '\\N'
      const line = `${tsvString(label.labelId)}\t${tsvString(label.predictionId)}\t${tsvString(label.model)}\t${label.version}\t${time}\t${date}\t${received}\t${label.revision}\t${number}\t${cls}\t${tail}`
      // A UTF-16 unit is at most 3 bytes of UTF-8: with that much room the line always fits.
      const room = line.length * 3
      if (length + room > buffer.length) {
        const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, length + room))
        buffer.copy(grown, 0, 0, length)
        buffer = grown
      }
      length += buffer.write(line, length)
      rows++
      if (++lines === chunkRows) cut()
    }
  }
  if (lines > 0) cut()
  return { rows, chunks }
}
