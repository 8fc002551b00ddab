import { TabSeparatedBuffer, tsvNumber, tsvString, tsvTimeFields } from '@argmax/analytics'
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

/** First size of a chunk's buffer (TabSeparatedBuffer). */
const FIRST_CHUNK_BYTES = 64 * 1024

/**
 * The receipts of `LabelsReceived` records as the label tables' rows, written straight to
 * TabSeparated bytes through a `TabSeparatedBuffer` (no row objects: a batch holds hundreds of
 * thousands of labels; joined strings made a 100,000-label batch take half a second). The same
 * bytes go to both tables.
 */
export function labelsText(events: readonly RecordedEvent[], chunkRows = 50_000): LabelsText {
  const chunks: Buffer[] = []
  const text = new TabSeparatedBuffer(FIRST_CHUNK_BYTES)
  let rows = 0
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
      text.write(line)
      rows++
      if (text.lines === chunkRows) chunks.push(text.cut().bytes)
    }
  }
  if (text.lines > 0) chunks.push(text.cut().bytes)
  return { rows, chunks }
}
