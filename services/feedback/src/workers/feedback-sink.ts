import { writeWhileUnavailable, type AnalyticsClient } from '@argmax/analytics'
import { startBatchConsumer, type ConsumerLogger, type RunningConsumer } from '@argmax/events'
import type { NatsConnection } from 'nats'
import type { FeedbackStreamNames } from '../streams.ts'
import { LABEL_COLUMNS, labelsText } from './labels-text.ts'

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

/**
 * The sink from `FEEDBACK_LOG` into ClickHouse: the platform's batch consumer hands it up to
 * `maxBatch` records (each up to ~2,000 labels); their rows go to `feedback_receipts` (every
 * receipt) and `feedback_labels` (the current label per prediction) in large INSERTs, and the
 * records are acknowledged only afterwards. The rows go as TabSeparated bytes, made once for both
 * tables. A crash in between redelivers them and the same rows are written again: both tables
 * are ReplacingMergeTrees keyed so that identical rows collapse, and what analysts query reads
 * them with FINAL — every accepted label counts once.
 * While ClickHouse is down the batch waits (reporting progress, so it keeps its claim) for up
 * to `outageWaitMs`, then fails and is retried by the consumer.
 */
export async function startFeedbackSink(options: FeedbackSinkOptions): Promise<RunningConsumer> {
  const outageWaitMs = options.outageWaitMs ?? 10 * 60_000
  return startBatchConsumer({
    nc: options.nc,
    stream: options.names.log.stream,
    durable: options.durable ?? FEEDBACK_SINK_DURABLE,
    maxBatch: options.maxBatch ?? 20,
    // Records are up to 512 KiB: a pull of many of them could be cut off as a slow consumer.
    maxPullBytes: 32 << 20,
    maxWaitMs: options.maxWaitMs ?? 100,
    ackWaitMs: options.ackWaitMs ?? 30_000,
    maxDeliver: 10,
    parkingReplicas: options.parkingReplicas ?? 1,
    ...(options.log ? { log: options.log } : {}),
    async handleBatch(events, { progress, signal }) {
      const { rows, chunks } = labelsText(events)
      if (rows === 0) return
      const deadline = Date.now() + outageWaitMs
      const wait = { deadline, progress, signal, log: options.log, fields: { rows } }
      await writeWhileUnavailable(wait, async () => {
        // Both tables at once: ClickHouse parses each INSERT on one thread, and the batch's
        // time in ClickHouse is what the next batch waits for. Both settle before a retry, so
        // a retry never races a write still in flight.
        const written = await Promise.allSettled(
          ['feedback_receipts', 'feedback_labels'].map(async (table) => {
            for (const chunk of chunks) {
              await options.analytics.insertTabSeparated(table, LABEL_COLUMNS, chunk)
            }
          }),
        )
        const failed = written.find((result) => result.status === 'rejected')
        if (failed) throw failed.reason
      })
    },
  })
}
