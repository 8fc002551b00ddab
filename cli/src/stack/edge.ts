import replyFrom from '@fastify/reply-from'
import { NotFoundError, UnavailableError } from '@argmax/errors'
import { answerClientError, refuseWhileClosing, sendProblem } from '@argmax/http/problems'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { routeFor } from './edge-routes.ts'
import type { ServiceName } from './services.ts'

export interface EdgeOptions {
  /** Base URL of each service, e.g. `http://127.0.0.1:7101`. */
  upstreams: Record<ServiceName, string>
  /** Upstream response timeout; long enough for a slow query, short enough to notice a hang. */
  timeoutMs?: number
}

/**
 * The local stack's single HTTP port: what the Ingress is in a cluster. It proxies each public
 * path to the service that owns it (see edge-routes.ts) without reading bodies, so uploads and
 * downloads stream through. Authentication is the services' job (they check ownership too);
 * the edge only adds `x-forwarded-*` so services see the original client.
 */
export async function createEdge({
  upstreams,
  timeoutMs = 300_000,
}: EdgeOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
  })
  refuseWhileClosing(app, 'edge')
  await app.register(replyFrom, {
    undici: { connections: 64, headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
    // Bodies are forwarded as the raw stream; never re-serialised (the default JSON-encodes).
    contentTypesToEncode: [],
  })

  // Bodies are passed on as streams: the owning service parses and limits them.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload))

  app.get('/healthz', async () => ({ status: 'ok', service: 'edge' }))

  app.all('/*', (request, reply) => {
    const service = routeFor(request.url)
    if (!service) {
      return sendProblem(
        reply,
        new NotFoundError('route', request.url.split('?')[0] ?? request.url),
      )
    }
    return reply.from(`${upstreams[service]}${request.url}`, {
      rewriteRequestHeaders: (req, { expect: _answeredHere, ...headers }) => ({
        // `Expect: 100-continue` (curl sends it with bodies over 1 MiB) is answered by the
        // edge's own HTTP server before the body comes; undici refuses to forward it.
        ...headers,
        'x-forwarded-for': req.ip,
        'x-forwarded-host': req.headers.host ?? '',
        'x-forwarded-proto': req.protocol,
      }),
      onError: (errorReply, { error }) => {
        void sendProblem(
          errorReply as FastifyReply,
          new UnavailableError(`the ${service} service did not answer: ${error.message}`, {
            service,
          }),
        )
      },
    })
  })
  return app
}
