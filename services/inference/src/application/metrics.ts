import type { Attributes, Meter } from '@opentelemetry/api'
import { CallerLabels } from '../domain/caller-labels.ts'

/**
 * The gateway's Prometheus metrics (on its /metrics):
 * - `model_prediction_total{model_name, version, user_id, status="success|error"}` — requests
 *   answered (status error: refused as invalid or not answered by a model server); requests for
 *   models that do not exist count under `model_name=""`, so callers cannot grow the labels;
 * - `model_prediction_latency{…same labels}` — seconds from arrival to answer (histogram,
 *   buckets 1 ms … 10 s, including 0.01, 0.05 and 0.1);
 * - `user_id` is the caller's subject for the top callers (`ARGMAX_INFERENCE_METRICS_TOP_USERS`,
 *   see caller-labels.ts) and `other` for everyone else;
 * - `inference_shadow_requests_total{model_name, outcome="mirrored|skipped|failed"}`,
 *   `inference_forward_retries_total`, `inference_prediction_log_buffered`,
 *   `inference_prediction_log_dropped_total`, `inference_model_server_up{endpoint}`.
 */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

export interface GatewayMetrics {
  prediction(model: string, version: string, caller: string, ok: boolean, seconds: number): void
  shadow(model: string, outcome: 'mirrored' | 'skipped' | 'failed'): void
}

export interface GatewayGauges {
  logBuffered(): number
  logDropped(): number
  forwardRetries(): number
  modelServers(): Array<{ address: string; up: boolean }>
}

export function createGatewayMetrics(
  meter: Meter,
  topUsers: number,
  gauges: GatewayGauges,
): GatewayMetrics {
  const callers = new CallerLabels(topUsers)
  const total = meter.createCounter('model_prediction', {
    description: 'Prediction requests answered, by model, version, caller and status',
  })
  const latency = meter.createHistogram('model_prediction_latency', {
    description: 'Seconds from a prediction request arriving to its answer',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
  })
  const shadows = meter.createCounter('inference_shadow_requests', {
    description:
      'Copies of requests for shadow versions: mirrored, skipped (too many in flight), failed',
  })
  meter
    .createObservableGauge('inference_prediction_log_buffered', {
      description:
        'Prediction log records waiting for JetStream (async mode and background records)',
    })
    .addCallback((result) => result.observe(gauges.logBuffered()))
  meter
    .createObservableCounter('inference_prediction_log_dropped', {
      description: 'Prediction log records shed because the buffer was full',
    })
    .addCallback((result) => result.observe(gauges.logDropped()))
  meter
    .createObservableCounter('inference_forward_retries', {
      description: 'Model-server calls retried on another model server',
    })
    .addCallback((result) => result.observe(gauges.forwardRetries()))
  meter
    .createObservableGauge('inference_model_server_up', {
      description: '1 while a model server answers its probe',
    })
    .addCallback((result) => {
      for (const server of gauges.modelServers()) {
        result.observe(server.up ? 1 : 0, { endpoint: server.address })
      }
    })
  return {
    prediction(model, version, caller, ok, seconds) {
      const attributes: Attributes = {
        model_name: model,
        version,
        user_id: callers.labelFor(caller),
        status: ok ? 'success' : 'error',
      }
      total.add(1, attributes)
      latency.record(seconds, attributes)
    },
    shadow(model, outcome) {
      shadows.add(1, { model_name: model, outcome })
    },
  }
}
