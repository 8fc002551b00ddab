import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ArgmaxError, ForbiddenError, UnauthenticatedError, toProblem } from '@argmax/errors'
import type { Principal } from './principal.ts'
import { MissingTokenError, type Verifier } from './verifier.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth plugin on every non-public route; null on public paths. */
    principal: Principal | null
  }
}

export interface AuthPluginOptions {
  verifier: Verifier
  /**
   * Paths this plugin does not authenticate: `/healthz` matches itself, `/docs` also `/docs/…`;
   * a RegExp matches the path (without the query). Either they are open, or their routes
   * verify a credential of their own (training's job routes take a run-scoped token).
   */
  publicPaths?: readonly (string | RegExp)[]
}

const realm = 'argmax'

export function isPublicPath(url: string, publicPaths: readonly (string | RegExp)[]): boolean {
  const path = url.split('?', 1)[0] ?? url
  return publicPaths.some((prefix) =>
    typeof prefix === 'string'
      ? path === prefix || path.startsWith(`${prefix}/`)
      : prefix.test(path),
  )
}

/** The principal of an authenticated request; a route handler on a public path gets a 401. */
export function requestPrincipal(request: FastifyRequest): Principal {
  if (request.principal === null) throw new UnauthenticatedError('a bearer token is required')
  return request.principal
}

// RFC 6750 §3: no error code when no credentials were sent; `invalid_token` for a bad token;
// `insufficient_scope` when the token is good but grants no role here.
function challenge(error: unknown): string | undefined {
  const describe = (message: string) => message.replaceAll('\\', '').replaceAll('"', "'")
  if (error instanceof MissingTokenError) return `Bearer realm="${realm}"`
  if (error instanceof UnauthenticatedError) {
    return `Bearer realm="${realm}", error="invalid_token", error_description="${describe(error.message)}"`
  }
  if (error instanceof ForbiddenError) {
    return `Bearer realm="${realm}", error="insufficient_scope", error_description="${describe(error.message)}"`
  }
  return undefined
}

async function refuse(request: FastifyRequest, reply: FastifyReply, error: unknown) {
  if (!(error instanceof ArgmaxError))
    request.log.error({ err: error }, 'token verification failed')
  const problem = toProblem(error, request.url)
  const header = challenge(error)
  if (header) reply.header('www-authenticate', header)
  return reply.code(problem.status).type('application/problem+json').send(problem)
}

const plugin: FastifyPluginAsync<AuthPluginOptions> = async (app, options) => {
  const publicPaths = options.publicPaths ?? []
  app.decorateRequest('principal', null)
  // onRequest: refuse before the body is read, so an anonymous client cannot make us parse it.
  app.addHook('onRequest', async (request, reply) => {
    if (isPublicPath(request.url, publicPaths)) return
    try {
      request.principal = await options.verifier.authenticate(request.headers.authorization)
    } catch (error) {
      return refuse(request, reply, error)
    }
  })
}

/** Authenticates every request outside `publicPaths` and sets `request.principal`. */
export const authPlugin = fp(plugin, { name: '@argmax/auth', fastify: '5.x' })
