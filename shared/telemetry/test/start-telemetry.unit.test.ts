import { Writable } from 'node:stream'
import { metrics, trace } from '@opentelemetry/api'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger, startTelemetry, traceExportOf, traceFields } from '../src/index.ts'

// Started once per file: the SDK registers process-wide globals.
const telemetry = startTelemetry({ serviceName: 'telemetry-test', env: {} })
afterAll(() => telemetry.shutdown())

function capture() {
  const lines: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, destination }
}

describe('traceExportOf', () => {
  it('exports over OTLP only when an endpoint is configured', () => {
    expect(traceExportOf({})).toBe('none')
    expect(traceExportOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('otlp')
    expect(traceExportOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(
      'otlp',
    )
    expect(
      traceExportOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBe('none')
  })
})

describe('startTelemetry', () => {
  it('records spans with real ids even without an exporter', () => {
    telemetry.tracer.startActiveSpan('work', (span) => {
      expect(span.isRecording()).toBe(true)
      expect(traceFields()).toEqual({
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
        trace_flags: '01',
      })
      span.end()
    })
    expect(traceFields()).toEqual({})
  })

  it('serves instruments of its meter, and of the global API, as Prometheus text', async () => {
    telemetry.meter.createCounter('jobs_started').add(3, { queue: 'high' })
    metrics.getMeter('some-library').createCounter('library_calls').add(1)
    const text = await telemetry.metricsText()
    expect(text).toMatch(/^jobs_started_total\{[^}]*queue="high"[^}]*\} 3$/m)
    expect(text).toMatch(/^library_calls_total\{[^}]*\} 1$/m)
  })
})

describe('createLogger', () => {
  it('writes JSON lines with the service, a level word and the active trace ids', () => {
    const { lines, destination } = capture()
    const logger = createLogger({ service: 'telemetry-test', destination })
    logger.info('outside any span')
    trace.getTracer('test').startActiveSpan('request', (span) => {
      logger.info({ runId: 'r1' }, 'inside a span')
      span.end()
    })
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'telemetry-test',
      msg: 'outside any span',
    })
    expect(lines[0]).not.toHaveProperty('trace_id')
    expect(lines[1]).toMatchObject({ msg: 'inside a span', runId: 'r1' })
    expect(lines[1]?.['trace_id']).toMatch(/^[0-9a-f]{32}$/)
    expect(lines[1]?.['span_id']).toMatch(/^[0-9a-f]{16}$/)
    expect(typeof lines[0]?.['time']).toBe('string')
  })

  it('redacts credentials', () => {
    const { lines, destination } = capture()
    const logger = createLogger({ service: 'telemetry-test', destination, level: 'debug' })
    logger.debug({
      req: { headers: { authorization: 'Bearer abc' } },
      s3: { secretAccessKey: 'k' },
    })
    expect(lines[0]).toMatchObject({
      req: { headers: { authorization: '[redacted]' } },
      s3: { secretAccessKey: '[redacted]' },
    })
  })
})
