import { metrics, trace, type Meter, type Tracer } from '@opentelemetry/api'
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node'
import { createPrometheusMetrics, serviceResource } from './prometheus-metrics.ts'

/**
 * Telemetry start-up, in its own module so a service's main.ts can call it before importing
 * anything else. Traces: always recorded (so logs carry trace ids and context crosses REST →
 * events → consumers); exported over OTLP only when an OTLP endpoint is configured. Metrics: a
 * Prometheus pull reader served on the service's /metrics route. Logs: pino to stdout
 * (see logger.ts), not through the OTel log pipeline.
 */

export interface TelemetryOptions {
  serviceName: string
  serviceVersion?: string
  /** Register a Prometheus reader (default true). Without it `metricsText()` returns ''. */
  prometheus?: boolean
  /** Where OTEL_* settings are looked up (the SDK itself also reads process.env). */
  env?: Record<string, string | undefined>
}

export interface Telemetry {
  serviceName: string
  tracer: Tracer
  meter: Meter
  /** Prometheus text exposition for the /metrics route. */
  metricsText(): Promise<string>
  /** Flushes pending spans and stops exporting; call on SIGTERM. */
  shutdown(): Promise<void>
}

type SpanProcessor = NonNullable<NodeSDKConfiguration['spanProcessors']>[number]

/** Keeps spans recording (real trace and span ids) without exporting them anywhere. */
const recordOnly: SpanProcessor = {
  onStart: () => {},
  onEnd: () => {},
  forceFlush: async () => {},
  shutdown: async () => {},
}

export type TraceExport = 'otlp' | 'none'

/** OTLP only when an endpoint is configured: no network exporter guesses a default collector. */
export function traceExportOf(env: Record<string, string | undefined>): TraceExport {
  if (env['OTEL_TRACES_EXPORTER'] === 'none') return 'none'
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT']
  return endpoint ? 'otlp' : 'none'
}

export function startTelemetry(options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env
  const traceExport = traceExportOf(env)
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    resource: serviceResource(options.serviceName, options.serviceVersion),
    // Left undefined, the SDK builds the OTLP exporter from OTEL_EXPORTER_OTLP_* itself.
    ...(traceExport === 'otlp' ? {} : { spanProcessors: [recordOnly] }),
    // Metrics go through our own MeterProvider below; logs through pino.
    metricReaders: [],
    logRecordProcessors: [],
  })
  sdk.start()

  const prometheus = options.prometheus === false ? undefined : createPrometheusMetrics(options)
  // Libraries that use the global API report into the same provider (first caller wins).
  if (prometheus) metrics.setGlobalMeterProvider(prometheus.meterProvider)

  return {
    serviceName: options.serviceName,
    tracer: trace.getTracer(options.serviceName),
    meter: prometheus?.meter() ?? metrics.getMeter(options.serviceName),
    metricsText: async () => (prometheus ? prometheus.metricsText() : ''),
    async shutdown() {
      await Promise.all([sdk.shutdown(), prometheus?.shutdown()])
    },
  }
}
