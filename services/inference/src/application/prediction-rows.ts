import type { PredictionLogRecord } from '@argmax/contracts'
import {
  TabSeparatedBuffer,
  tsvNullableString,
  tsvNumber,
  tsvString,
  tsvTimeFields,
} from '@argmax/analytics'
import type { RecordedEvent } from '@argmax/events'
import { loggedRecords } from './prediction-log.ts'

/**
 * The columns of `argmax.predictions` (see shared/analytics' migration and docs/analytics.md)
 * in the order `predictionChunks` writes a row's fields: first what differs between the rows of
 * a record, then what they share (written once a record).
 */
export const PREDICTION_COLUMNS = [
  'prediction_id',
  'row_index',
  'inputs',
  'outputs',
  'prediction',
  'predicted_class',
  'request_id',
  'time',
  'time_ms',
  'date',
  'model',
  'version',
  'variant',
  'release_sequence',
  'caller',
  'protocol',
  'status',
  'error',
  'latency_ms',
  'batch_id',
] as const

/** Rows as TabSeparated UTF-8, one line a row: what one INSERT sends. */
export interface PredictionChunk {
  rows: number
  bytes: Buffer
}

/** First size of a chunk's buffer (TabSeparatedBuffer). */
const FIRST_CHUNK_BYTES = 256 * 1024

/**
 * The ClickHouse rows of the log records in `events`, written straight to TabSeparated bytes (no
 * row objects), in chunks of whole records of about `chunkRows` lines, made one at a time as
 * they are asked for: a batch of grouped messages may hold a million rows, and only the chunk
 * being inserted needs to exist (each line goes into a `TabSeparatedBuffer` as it is made,
 * outside the JavaScript heap). A record gives one row per prediction id, or — for a request
 * that failed — one keyed `error:<record id>`, where a record's id is its message's id when
 * the message carries one record, `<message id>/<index>` in a `PredictionsLogged` message. A
 * pure function of the events, so a batch handled twice (a redelivery after a crash) yields
 * identical rows, which the table's ReplacingMergeTree key collapses. The events are in today's
 * shape (the sink's consumer upcasts older ones): each row's inputs and outputs are JSON text,
 * written as they came, and its prediction and class are beside them.
 */
export function* predictionChunks(
  events: readonly Pick<RecordedEvent, 'id' | 'type' | 'data'>[],
  chunkRows = 50_000,
): Generator<PredictionChunk> {
  const text = new TabSeparatedBuffer(FIRST_CHUNK_BYTES)
  for (const event of events) {
    const records = loggedRecords(event.type, event.data)
    for (let r = 0; r < records.length; r++) {
      const record = records[r]!
      const shared = sharedFields(record)
      const offset = record.rowOffset ?? 0
      if (record.rows.length === 0) {
        const id = records.length === 1 ? event.id : `${event.id}/${r}`
        text.write(`${tsvString(`error:${id}`)}\t${tsvNumber(offset)}\t{}\t{}\t\\N\t\\N\t${shared}`)
      }
      for (let i = 0; i < record.rows.length; i++) {
        const row = record.rows[i]!
        text.write(
          `${tsvString(row.predictionId)}\t${tsvNumber(row.row ?? offset + i)}\t${tsvString(row.inputs)}\t${tsvString(row.outputs)}\t${tsvNumber(row.prediction ?? null)}\t${tsvNullableString(row.predictedClass ?? null)}\t${shared}`,
        )
      }
      if (text.lines >= chunkRows) yield text.cut()
    }
  }
  if (text.lines > 0) yield text.cut()
}

/** The fields every row of a record shares, from `request_id` to `batch_id`, and the newline. */
function sharedFields(record: PredictionLogRecord): string {
  const time = tsvTimeFields(record.time)
  return `${tsvString(record.requestId)}\t${time.dateTime}\t${time.ms}\t${time.date}\t${tsvString(record.model)}\t${tsvNumber(record.version)}\t${tsvString(record.variant)}\t${tsvNumber(record.releaseSequence)}\t${tsvString(record.caller)}\t${tsvString(record.protocol)}\t${tsvString(record.status)}\t${tsvString(record.error ?? '')}\t${tsvNumber(record.latencyMs)}\t${tsvString(record.batchId ?? '')}\n`
}
