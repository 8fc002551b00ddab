import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { context, propagation, trace } from '@opentelemetry/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTelemetry, type Telemetry } from '../src/index.ts'

// A stand-in OTLP/HTTP collector on loopback: it records what the SDK posts.
const received: { url: string; contentType: string; body: Buffer }[] = []
const collector = createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    received.push({
      url: request.url ?? '',
      contentType: request.headers['content-type'] ?? '',
      body: Buffer.concat(chunks),
    })
    response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
  })
})
let telemetry: Telemetry

function releaseGlobals() {
  trace.disable()
  context.disable()
  propagation.disable()
}

beforeAll(async () => {
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
  // The SDK reads its exporter settings from process.env.
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] =
    `http://127.0.0.1:${(collector.address() as AddressInfo).port}`
  // The first SDK started in a process keeps the global tracer provider, and files may share a
  // worker process: this one needs its own SDK's, so it takes the globals over, and gives them
  // up afterwards for the next file's.
  releaseGlobals()
  telemetry = startTelemetry({ serviceName: 'otlp-test', prometheus: false })
})

afterAll(async () => {
  releaseGlobals()
  delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT']
  await new Promise<void>((resolve) => collector.close(() => resolve()))
})

describe('startTelemetry with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('exports spans to the collector over OTLP/HTTP and flushes on shutdown', async () => {
    telemetry.tracer.startActiveSpan('train-model', (span) => span.end())
    await telemetry.shutdown()
    const traces = received.filter((post) => post.url === '/v1/traces')
    expect(traces).toHaveLength(1)
    expect(traces[0]?.contentType).toBe('application/x-protobuf')
    // Protobuf keeps strings verbatim: the span and service names are in the payload.
    expect(traces[0]?.body.includes('train-model')).toBe(true)
    expect(traces[0]?.body.includes('otlp-test')).toBe(true)
    expect(received.every((post) => post.url === '/v1/traces')).toBe(true)
  })
})
