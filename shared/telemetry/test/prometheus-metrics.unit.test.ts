import { afterAll, describe, expect, it } from 'vitest'
import { createPrometheusMetrics } from '../src/index.ts'

describe('createPrometheusMetrics', () => {
  const prometheus = createPrometheusMetrics({
    serviceName: 'metrics-test',
    serviceVersion: '1.2.3',
  })
  afterAll(() => prometheus.shutdown())

  it('exposes registered counters and histograms as Prometheus text', async () => {
    const meter = prometheus.meter()
    const predictions = meter.createCounter('model_prediction', {
      description: 'Predictions served',
    })
    const latency = meter.createHistogram('model_prediction_latency', {
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.01, 0.1] },
    })
    predictions.add(2, { model: 'houses', status: 'ok' })
    predictions.add(1, { model: 'houses', status: 'error' })
    latency.record(0.004, { model: 'houses' })

    const text = await prometheus.metricsText()
    expect(text).toContain('# HELP model_prediction_total Predictions served')
    expect(text).toContain('# TYPE model_prediction_total counter')
    expect(text).toMatch(/^model_prediction_total\{[^}]*model="houses",status="ok"[^}]*\} 2$/m)
    expect(text).toMatch(/^model_prediction_total\{[^}]*status="error"[^}]*\} 1$/m)
    expect(text).toMatch(/^model_prediction_latency_bucket\{[^}]*le="0.01"[^}]*\} 1$/m)
    expect(text).toMatch(/^model_prediction_latency_bucket\{[^}]*le="0.001"[^}]*\} 0$/m)
    expect(text).toMatch(
      /^target_info\{[^}]*service_name="metrics-test"[^}]*service_version="1.2.3"/m,
    )
  })

  it('reports cumulative values across scrapes', async () => {
    const counter = prometheus.meter('other').createCounter('scrapes_seen')
    counter.add(1)
    await prometheus.metricsText()
    counter.add(1)
    expect(await prometheus.metricsText()).toMatch(/^scrapes_seen_total\{[^}]*\} 2$/m)
  })
})
