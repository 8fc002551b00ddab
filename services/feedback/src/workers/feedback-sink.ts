import {
  clickhouseDate,
  clickhouseDateTime,
  insertInChunks,
  isClickhouseUnavailable,
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

/** A receipt as both label tables store it. */
export interface LabelRow {
  label_id: string
  prediction_id: string
  model: string
  version: number
  prediction_time: string
  date: string
  received_at: string
  received_ms: number
  revision: number
  value_number: number | null
  value_class: string | null
  source: string
  actor: string
  request_id: string
}

export function labelRows(events: readonly RecordedEvent[]): LabelRow[] {
  const rows: LabelRow[] = []
  for (const event of events) {
    if (event.type !== LABELS_RECEIVED) continue
    const data = event.data as LabelsReceivedData
    const receivedAt = new Date(data.receivedAt)
    for (const label of data.labels) {
      const predictionTime = new Date(label.predictionTime)
      rows.push({
        label_id: label.labelId,
        prediction_id: label.predictionId,
        model: label.model,
        version: label.version,
        prediction_time: clickhouseDateTime(predictionTime),
        date: clickhouseDate(predictionTime),
        received_at: clickhouseDateTime(receivedAt),
        received_ms: receivedAt.getUTCMilliseconds(),
        revision: label.revision,
        value_number: typeof label.value === 'number' ? label.value : null,
        value_class: typeof label.value === 'string' ? label.value : null,
        source: data.source,
        actor: event.actor,
        request_id: data.requestId,
      })
    }
  }
  return rows
}

/**
 * The sink from `FEEDBACK_LOG` into ClickHouse: the platform's batch consumer hands it up to
 * `maxBatch` records (each up to ~1,000 labels); their rows go to `feedback_receipts` (every
 * receipt) and `feedback_labels` (the current label per prediction) in large INSERTs, and the
 * records are acknowledged only afterwards. A crash in between redelivers them and the same rows
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
      const rows = labelRows(events)
      if (rows.length === 0) return
      await whileAvailable(outageWaitMs, progress, signal, async () => {
        await insertInChunks(options.analytics, 'feedback_receipts', rows, 50_000)
        await insertInChunks(options.analytics, 'feedback_labels', rows, 50_000)
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
