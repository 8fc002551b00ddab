import { ArgmaxError, ValidationError, type ErrorKind, type FieldIssue } from './errors.ts'
import { asArgmaxError } from './infrastructure.ts'

/** RFC 9457 problem details, as served with `content-type: application/problem+json`. */
export interface ProblemDetails {
  type: string
  title: string
  status: number
  detail: string
  instance?: string
  errors?: FieldIssue[]
  [extension: string]: unknown
}

const statusByKind: Record<ErrorKind, { status: number; title: string }> = {
  validation: { status: 400, title: 'Bad Request' },
  unauthenticated: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not Found' },
  conflict: { status: 409, title: 'Conflict' },
  // 409, not 412: our clients send no precondition (If-Match); the conflict is between writers
  // inside the service, whose retries were spent. The problem type tells it from `conflict`.
  concurrency: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Content Too Large' },
  idempotency_key_reused: { status: 422, title: 'Unprocessable Content' },
  rate_limited: { status: 429, title: 'Too Many Requests' },
  unavailable: { status: 503, title: 'Service Unavailable' },
  internal: { status: 500, title: 'Internal Server Error' },
}

export function httpStatusOf(kind: ErrorKind): number {
  return statusByKind[kind].status
}

/**
 * The problem for an error: @argmax/errors as they are, infrastructure failures (see
 * infrastructure.ts) as 503, anything else as a bare 500 that reveals nothing.
 */
export function toProblem(thrown: unknown, instance?: string): ProblemDetails {
  const error = asArgmaxError(thrown)
  if (!(error instanceof ArgmaxError)) {
    return {
      type: 'about:blank',
      ...statusByKind.internal,
      detail: 'an unexpected error occurred',
      ...(instance ? { instance } : {}),
    }
  }
  const { status, title } = statusByKind[error.kind]
  const problem: ProblemDetails = {
    type: `https://argmax.dev/problems/${error.kind.replaceAll('_', '-')}`,
    title,
    status,
    detail: error.message,
    ...(instance ? { instance } : {}),
    ...error.details,
  }
  if (error instanceof ValidationError) problem.errors = error.issues
  return problem
}
