import { STATUS_CODES } from 'node:http'
import type { FastifyReply } from 'fastify'
import {
  RateLimitedError,
  UnauthenticatedError,
  UnavailableError,
  asArgmaxError,
  toProblem,
  type ProblemDetails,
} from '@argmax/errors'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

function isProblemDetails(value: unknown): value is ProblemDetails {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Error) &&
    typeof (value as ProblemDetails).status === 'number' &&
    typeof (value as ProblemDetails).title === 'string'
  )
}

/** A problem for an HTTP status that has no kind in the error vocabulary (415, 405, …). */
export function httpProblem(status: number, detail: string, instance?: string): ProblemDetails {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...(instance ? { instance } : {}),
  }
}

/**
 * Replies with RFC 9457 problem details for an @argmax/errors error (or a ready-made problem),
 * adding the headers its kind calls for: `Retry-After` on 429 and 503 (an infrastructure
 * failure is a 503 too, see @argmax/errors' `classifyInfrastructureError`), a Bearer challenge
 * on 401.
 */
export function sendProblem(reply: FastifyReply, thrown: unknown): FastifyReply {
  const error = asArgmaxError(thrown)
  const problem = isProblemDetails(error) ? error : toProblem(error, reply.request.url)
  if (error instanceof RateLimitedError || error instanceof UnavailableError) {
    reply.header('retry-after', String(Math.max(0, Math.ceil(error.retryAfterSeconds))))
  }
  if (error instanceof UnauthenticatedError && !reply.hasHeader('www-authenticate')) {
    reply.header('www-authenticate', 'Bearer realm="argmax"')
  }
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem)
}
