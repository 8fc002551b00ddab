import type { Meter } from '@opentelemetry/api'
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus'
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions'

export interface PrometheusMetrics {
  meterProvider: MeterProvider
  /** A meter of this provider (default: named after the service). */
  meter(name?: string): Meter
  /** The Prometheus text exposition (format 0.0.4) of every instrument, for a /metrics route. */
  metricsText(): Promise<string>
  shutdown(): Promise<void>
}

/** `text/plain; version=0.0.4` is what Prometheus expects from a text scrape. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export function serviceResource(serviceName: string, serviceVersion?: string): Resource {
  return defaultResource().merge(
    resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      ...(serviceVersion ? { [ATTR_SERVICE_VERSION]: serviceVersion } : {}),
    }),
  )
}

/**
 * A MeterProvider read by a pull-based Prometheus reader. The exporter's own HTTP server is never
 * started (`preventServerStart`): each service serves the text on its own /metrics route, so
 * there is one port per process and the route sits behind the same shell as the API.
 */
export function createPrometheusMetrics(options: {
  serviceName: string
  serviceVersion?: string
}): PrometheusMetrics {
  const reader = new PrometheusExporter({ preventServerStart: true })
  const serializer = new PrometheusSerializer()
  const meterProvider = new MeterProvider({
    resource: serviceResource(options.serviceName, options.serviceVersion),
    readers: [reader],
  })
  return {
    meterProvider,
    meter: (name = options.serviceName) => meterProvider.getMeter(name),
    async metricsText() {
      const { resourceMetrics } = await reader.collect()
      return serializer.serialize(resourceMetrics)
    },
    shutdown: () => meterProvider.shutdown(),
  }
}
