import {
  isClickhouseUnavailable,
  tsvNumber,
  tsvString,
  tsvTimeFields,
  type AnalyticsClient,
} from '@argmax/analytics'
import {
  startBatchConsumer,
  type ConsumerLogger,
  type RecordedEvent,
  type RunningConsumer,
} from '@argmax/events'
import type { NatsConnection } from 'nats'
import { LABELS_RECEIVED, type LabelsReceivedData } from '../domain/labels.ts'
import type { FeedbackStreamNames } from '../streams.ts'

export const FEEDBACK_SINK_DURABLE = 'feedback-clickhouse-sink'

export interface FeedbackSinkOptions {
  nc: NatsConnection
  analytics: AnalyticsClient
  names: FeedbackStreamNames
  durable?: string
  maxBatch?: number
  maxWaitMs?: number
  /** How long one batch waits for ClickHouse to come back before it counts as failed. */
  outageWaitMs?: number
  ackWaitMs?: number
  log?: ConsumerLogger
  parkingReplicas?: number
}

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

/** Receipts as TabSeparated text in chunks of at most `chunkRows` lines (one INSERT each). */
export interface LabelsText {
  rows: number
  chunks: string[]
}

/**
 * The receipts of `LabelsReceived` records as the label tables' rows, written straight to
 * TabSeparated text (no row objects: a batch holds hundreds of thousands of labels). The same
 * text goes to both tables.
 */
export function labelsText(events: readonly RecordedEvent[], chunkRows = 50_000): LabelsText {
  const chunks: string[] = []
  let lines: string[] = []
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
      lines.push(
        `${tsvString(label.labelId)}\t${tsvString(label.predictionId)}\t${tsvString(label.model)}\t${label.version}\t${time}\t${date}\t${received}\t${label.revision}\t${number}\t${cls}\t${tail}`,
      )
      rows++
      if (lines.length === chunkRows) {
        chunks.push(lines.join(''))
        lines = []
      }
    }
  }
  if (lines.length > 0) chunks.push(lines.join(''))
  return { rows, chunks }
}

/**
 * The sink from `FEEDBACK_LOG` into ClickHouse: the platform's batch consumer hands it up to
 * `maxBatch` records (each up to ~1,000 labels); their rows go to `feedback_receipts` (every
 * receipt) and `feedback_labels` (the current label per prediction) in large INSERTs, and the
 * records are acknowledged only afterwards. The rows go as TabSeparated text, made once for both
 * tables. A crash in between redelivers them and the same rows
 * are written again: both tables are ReplacingMergeTrees keyed so that identical rows collapse,
 * and what analysts query reads them with FINAL — every accepted label counts once.
 * While ClickHouse is down the batch waits (reporting progress, so it keeps its claim) for up
 * to `outageWaitMs`, then fails and is retried by the consumer.
 */
export async function startFeedbackSink(options: FeedbackSinkOptions): Promise<RunningConsumer> {
  const outageWaitMs = options.outageWaitMs ?? 10 * 60_000
  return startBatchConsumer({
    nc: options.nc,
    stream: options.names.log.stream,
    durable: options.durable ?? FEEDBACK_SINK_DURABLE,
    maxBatch: options.maxBatch ?? 200,
    maxWaitMs: options.maxWaitMs ?? 100,
    ackWaitMs: options.ackWaitMs ?? 30_000,
    maxDeliver: 10,
    parkingReplicas: options.parkingReplicas ?? 1,
    ...(options.log ? { log: options.log } : {}),
    async handleBatch(events, { progress, signal }) {
      const { rows, chunks } = labelsText(events)
      if (rows === 0) return
      await whileAvailable(outageWaitMs, progress, signal, async () => {
        for (const table of ['feedback_receipts', 'feedback_labels']) {
          for (const chunk of chunks) {
            await options.analytics.insertTabSeparated(table, LABEL_COLUMNS, chunk)
          }
        }
      })
    },
  })
}

/**
 * Runs `write`, and while ClickHouse answers "not now" runs it again with a growing pause,
 * reporting progress so the batch keeps its claim, until `outageWaitMs` has passed.
 */
export async function whileAvailable(
  outageWaitMs: number,
  progress: () => void,
  signal: AbortSignal,
  write: () => Promise<void>,
): Promise<void> {
  const started = Date.now()
  let pauseMs = 250
  for (;;) {
    try {
      await write()
      return
    } catch (error) {
      if (!isClickhouseUnavailable(error) || Date.now() - started > outageWaitMs) throw error
    }
    signal.throwIfAborted()
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
    pauseMs = Math.min(pauseMs * 2, 5_000)
    progress()
  }
}
