import type { StreamSpec } from '@argmax/events'

/**
 * The record of every prediction (request id, model, version, inputs, outputs, latency,
 * status, caller), published off the hot path and written to ClickHouse by a sink. A log, not
 * domain events: inference owns no aggregates, it follows the registry's releases.
 */
export const INFERENCE_LOG_STREAM = 'INFERENCE_LOG'

/** Kept a week in JetStream: enough for the ClickHouse sink to catch up after any outage. */
export const INFERENCE_LOG_MAX_AGE_MS = 7 * 24 * 3_600_000

export function inferenceStreams(replicas: number): StreamSpec[] {
  return [
    {
      name: INFERENCE_LOG_STREAM,
      subjects: ['inference.log.>'],
      retention: 'limits',
      maxAge: INFERENCE_LOG_MAX_AGE_MS,
      replicas,
    },
  ]
}
