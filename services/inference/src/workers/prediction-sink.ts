import { writeWhileUnavailable, type AnalyticsClient } from '@argmax/analytics'
import { startBatchConsumer, type RecordedEvent, type RunningConsumer } from '@argmax/events'
import type { NatsConnection } from 'nats'
import { PREDICTION_COLUMNS, predictionChunks } from '../application/prediction-rows.ts'
import { predictionLogUpcast } from '../application/prediction-log.ts'
import type { InferenceStreamNames } from '../streams.ts'

export const PREDICTION_SINK_DURABLE = 'inference-log-sink'

export interface PredictionSinkOptions {
  nc: NatsConnection
  names: InferenceStreamNames
  client: AnalyticsClient
  maxBatch: number
  maxWaitMs: number
  /** How long one batch keeps retrying an unavailable ClickHouse before it counts as failed. */
  outageWaitMs: number
  log: {
    info(fields: Record<string, unknown>, message: string): void
    warn(fields: Record<string, unknown>, message: string): void
    error(fields: Record<string, unknown>, message: string): void
  }
  parkingReplicas?: number
  /** Observes each committed batch (tests, benchmarks). */
  onCommitted?: (rows: number) => void
  ackWaitMs?: number
}

/**
 * `INFERENCE_LOG` → ClickHouse `predictions`, through the shared consumer's batch mode: up to
 * `maxBatch` messages a time become INSERTs of TabSeparated text (one per 50,000 rows, each
 * made when the last is in), acknowledged only once ClickHouse accepted all of them.
 *
 * Exactly once in what analysts read: a sink killed after its INSERT but before its acks gets
 * the batch again and inserts it again — the rows are identical (a pure function of each
 * record), and the table is a ReplacingMergeTree keyed by prediction id read through FINAL.
 * Nothing is lost: a record is acknowledged only after its rows are in.
 *
 * While ClickHouse is unavailable (refused, timing out, overloaded) the batch is not failed —
 * failing would split it and spend its deliveries — but tried again with a backoff of 0.5 s
 * doubling to 5 s, reporting progress so its claim holds, for up to `outageWaitMs`. After that,
 * or on a failure that is not an outage (a row ClickHouse refuses), the batch fails and the
 * consumer isolates the culprit, retries it and parks it after 20 deliveries.
 */
export async function startPredictionSink(
  options: PredictionSinkOptions,
): Promise<RunningConsumer> {
  return startBatchConsumer({
    nc: options.nc,
    stream: options.names.log.stream,
    durable: PREDICTION_SINK_DURABLE,
    maxBatch: options.maxBatch,
    // Records are up to ~1 MiB: a pull of maxBatch of them could be cut off as a slow consumer.
    maxPullBytes: 32 << 20,
    maxWaitMs: options.maxWaitMs,
    ackWaitMs: options.ackWaitMs ?? 60_000,
    maxDeliver: 20,
    retryDelaysMs: [1_000, 5_000, 15_000, 30_000, 60_000],
    parkingReplicas: options.parkingReplicas ?? 1,
    // Messages of an older schemaVersion (still in the stream after an upgrade) as today's.
    upcast: predictionLogUpcast,
    log: options.log,
    async handleBatch(events: RecordedEvent[], { progress, signal }) {
      const deadline = Date.now() + options.outageWaitMs
      let rows = 0
      for (const chunk of predictionChunks(events)) {
        const wait = { deadline, progress, signal, log: options.log, fields: { rows: chunk.rows } }
        await writeWhileUnavailable(wait, () =>
          options.client.insertTabSeparated('predictions', PREDICTION_COLUMNS, chunk.bytes),
        )
        rows += chunk.rows
        progress()
      }
      if (rows > 0) options.onCommitted?.(rows)
    },
  })
}
