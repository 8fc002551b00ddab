import {
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api'
import type { FastifyInstance, FastifyRequest } from 'fastify'

const spans = new WeakMap<FastifyRequest, { span: Span; context: Context }>()

/**
 * One SERVER span per request, continuing the caller's W3C trace context. The handler runs
 * inside the span's context (entered in preHandler, from which fastify calls the handler
 * synchronously), so logs and events written there carry the trace, including into NATS headers.
 * Without a registered tracer provider all of this is a no-op.
 */
export function registerRequestTracing(app: FastifyInstance, service: string): void {
  const tracer = trace.getTracer(`@argmax/http:${service}`)

  app.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(context.active(), request.headers)
    const route = request.routeOptions.url
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?', 1)[0] ?? request.url,
          ...(route ? { 'http.route': route } : {}),
        },
      },
      parent,
    )
    spans.set(request, { span, context: trace.setSpan(parent, span) })
    context.with(trace.setSpan(parent, span), done)
  })

  app.addHook('preHandler', (request, _reply, done) => {
    const entry = spans.get(request)
    if (entry) context.with(entry.context, done)
    else done()
  })

  app.addHook('onResponse', (request, reply, done) => {
    const entry = spans.get(request)
    if (entry) {
      entry.span.setAttribute('http.response.status_code', reply.statusCode)
      if (reply.statusCode >= 500) entry.span.setStatus({ code: SpanStatusCode.ERROR })
      entry.span.end()
      spans.delete(request)
    }
    done()
  })
}

/** Records a server-side failure on the request's span. */
export function recordRequestError(request: FastifyRequest, error: unknown): void {
  const entry = spans.get(request)
  if (entry && error instanceof Error) entry.span.recordException(error)
}
