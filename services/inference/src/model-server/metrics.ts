import type { Attributes, Meter } from '@opentelemetry/api'
import type { BatchReport } from './batching/dynamic-batcher.ts'
import type { IndexEntry } from './repository/model-repository.ts'

/**
 * The model server's Prometheus metrics (served on its /metrics):
 * - `model_server_inference_total{model_name, version, status="success|error"}`
 * - `model_server_inference_duration_seconds{model_name, version, status}` — request latency
 * - `model_server_batch_size{model_name, version}` — rows per model run
 * - `model_server_queue_delay_seconds{model_name, version}` — time a request queued for its run
 * - `model_server_versions{state}` — versions held per state (READY, LOADING, UNAVAILABLE)
 * Requests that name no loaded model count under `model_name="", version=""`, so a caller
 * cannot grow the label set.
 */
export interface ModelServerMetrics {
  inference(model: string, version: string, status: 'success' | 'error', seconds: number): void
  batch(model: string, version: string, report: BatchReport): void
}

const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
]
const QUEUE_DELAY_BUCKETS = [
  0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
]
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]

export function createModelServerMetrics(
  meter: Meter,
  index: () => IndexEntry[],
): ModelServerMetrics {
  // Answered requests are tallied here and observed when metrics are read: a counter's `add`
  // next to the histogram's `record` made OpenTelemetry hash the same attributes twice a
  // request (a sort, a map and a JSON string each time), the model server's largest garbage
  // after grpc-js's own. The tally's attributes object is also the histogram's.
  const tallies = new Map<string, { attributes: Attributes; answered: number }>()
  meter
    .createObservableCounter('model_server_inference', {
      description: 'Inference requests answered, by model, version and status',
    })
    .addCallback((result) => {
      for (const { attributes, answered } of tallies.values()) result.observe(answered, attributes)
    })
  const latency = meter.createHistogram('model_server_inference_duration_seconds', {
    description: 'Time from a request arriving to its answer, in seconds',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
  })
  const batchSize = meter.createHistogram('model_server_batch_size', {
    description: 'Rows per model run (dynamic batching merges requests into one run)',
    advice: { explicitBucketBoundaries: BATCH_SIZE_BUCKETS },
  })
  const queueDelay = meter.createHistogram('model_server_queue_delay_seconds', {
    description: 'Time a request waited in the batch queue before its run started, in seconds',
    advice: { explicitBucketBoundaries: QUEUE_DELAY_BUCKETS },
  })
  meter
    .createObservableGauge('model_server_versions', {
      description: 'Model versions held by this model server, by state',
    })
    .addCallback((result) => {
      const states = { READY: 0, LOADING: 0, UNAVAILABLE: 0 }
      for (const entry of index()) states[entry.state]++
      for (const [state, value] of Object.entries(states)) result.observe(value, { state })
    })

  return {
    inference(model, version, status, seconds) {
      const key = `${model}\u0000${version}\u0000${status}`
      let tally = tallies.get(key)
      if (!tally) {
        tally = { attributes: { model_name: model, version, status }, answered: 0 }
        tallies.set(key, tally)
      }
      tally.answered++
      latency.record(seconds, tally.attributes)
    },
    batch(model, version, report) {
      const attributes: Attributes = { model_name: model, version }
      batchSize.record(report.rows, attributes)
      for (const delayMs of report.queueDelaysMs) queueDelay.record(delayMs / 1000, attributes)
    },
  }
}
