import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify'
import { authPlugin, type Verifier } from '@argmax/auth'
import { ArgmaxError, asArgmaxError } from '@argmax/errors'
import { answerClientError, refuseWhileClosing } from './early-refusals.ts'
import { fromFastifyError } from './fastify-errors.ts'
import { registerOperationalRoutes } from './health.routes.ts'
import { registerOpenApi } from './openapi.ts'
import type { Readiness } from './readiness.ts'
import { recordRequestError, registerRequestTracing } from './request-tracing.ts'
import { httpProblem, sendProblem } from './send-problem.ts'

export interface ServiceAppOptions {
  /** The bounded context, e.g. `training`: names the OpenAPI document and the spans. */
  service: string
  version?: string
  description?: string
  /** A pino logger, usually `createLogger({ service })` from @argmax/telemetry. */
  logger: FastifyBaseLogger
  verifier: Verifier
  /** /readyz: a boolean, or a report naming each check (see `readinessChecks`). */
  ready: Readiness
  /** /metrics: the Prometheus text, usually `telemetry.metricsText`. */
  metrics?: () => Promise<string>
  /** Largest accepted request body in bytes (default 1 MiB); larger ones get 413 unread. */
  bodyLimit?: number
  /**
   * Further paths the bearer check skips, beside /healthz, /readyz, /metrics and /docs: open
   * ones, or (a RegExp on the path) routes that verify a credential of their own.
   */
  publicPaths?: (string | RegExp)[]
  /** Request ids for requests that arrive without `x-request-id` (default: random UUIDs). */
  newRequestId?: () => string
}

export const OPERATIONAL_PATHS = ['/healthz', '/readyz', '/metrics', '/docs'] as const

export const DEFAULT_BODY_LIMIT = 1024 * 1024

/**
 * The shell every Argmax REST service runs in: bearer auth on everything but the operational
 * paths, /healthz /readyz /metrics /docs, request spans, and one error handler that answers
 * every refusal as RFC 9457 problem+json. Add routes (with JSON schemas) to the returned app.
 */
export async function createServiceApp(options: ServiceAppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const newRequestId = options.newRequestId ?? randomUUID
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => newRequestId(),
    // Report every invalid field at once rather than the first one, and refuse unknown fields
    // (`additionalProperties: false`) instead of silently dropping them: bad input is named.
    ajv: { customOptions: { allErrors: true, removeAdditional: false } },
    // What Node's parser refuses (oversized headers, a malformed request) is a problem too.
    clientErrorHandler: answerClientError,
    return503OnClosing: false,
  })
  refuseWhileClosing(app, options.service)

  registerRequestTracing(app, options.service)
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    if (reply.statusCode === 413) lingerAfterRefusal(request.raw, reply)
  })

  app.setErrorHandler((error, request, reply) => {
    // A failed dependency (PostgreSQL, NATS, S3) becomes a 503 with Retry-After naming it.
    const translated = asArgmaxError(fromFastifyError(error, request, bodyLimit))
    if (!(translated instanceof ArgmaxError) && translated === error) {
      // Not a refusal we know: a bug. Log it; say nothing specific.
      recordRequestError(request, error)
      request.log.error({ err: error }, 'request failed')
    } else if (translated instanceof ArgmaxError && translated.kind === 'unavailable') {
      // The library's own error is logged (it says which host, which query); the client only
      // learns which dependency failed.
      request.log.warn({ err: error, problem: translated.message }, 'dependency unavailable')
    }
    return sendProblem(reply, translated)
  })

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      httpProblem(404, `no route ${request.method} ${request.url.split('?', 1)[0]}`, request.url),
    ),
  )

  await registerOpenApi(app, {
    service: options.service,
    version: options.version ?? '0.0.0',
    ...(options.description ? { description: options.description } : {}),
  })
  await app.register(authPlugin, {
    verifier: options.verifier,
    publicPaths: [...OPERATIONAL_PATHS, ...(options.publicPaths ?? [])],
  })
  registerOperationalRoutes(app, {
    ready: options.ready,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  })
  return app
}

/** How long the rest of a refused body is read and dropped before the connection is closed. */
const LINGER_AFTER_REFUSAL_MS = 5_000

/**
 * After a 413 the client may still be sending the body it announced. Closing the connection
 * at once (fastify asks for `Connection: close`) resets it, and a client that reads the answer
 * only once it has sent everything (Python's http.client and requests, fetch at times) sees a
 * broken pipe instead of the 413. So the connection stays open while the rest of the body is
 * read and dropped, nothing kept, as nginx's lingering close does; a client still sending
 * after LINGER_AFTER_REFUSAL_MS is cut off.
 */
function lingerAfterRefusal(raw: IncomingMessage, reply: FastifyReply): void {
  if (raw.complete) return
  reply.removeHeader('connection')
  // Destroying the unfinished request closes its connection (and works on an injected one).
  const cutOff = setTimeout(() => raw.destroy(), LINGER_AFTER_REFUSAL_MS).unref()
  raw.once('end', () => clearTimeout(cutOff))
  raw.once('close', () => clearTimeout(cutOff))
  raw.resume()
}
