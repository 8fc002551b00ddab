import { ArgmaxError, UnavailableError } from './errors.ts'

/**
 * Failures of the infrastructure a request needs — PostgreSQL, NATS, S3 — are not the client's
 * fault and not a bug: the same request may succeed in a moment. They are recognised here, once,
 * by the shapes the client libraries give their errors (no library is imported), and answered as
 * UnavailableError: 503 with `Retry-After`, gRPC UNAVAILABLE. Anything else stays a 500.
 */

/** Dependencies a process can name; a library's own errors say which one they come from. */
export type Dependency = 'postgres' | 'nats' | 's3' | (string & {})

const tagged = new WeakMap<object, Dependency>()

/**
 * Marks an error as coming from `dependency`, for errors that do not say so themselves (a
 * refused TCP connection looks the same from every client). Returns the error for `throw`.
 * Adapters do this where they call the library (see @argmax/projections' pool).
 */
export function markDependency<E>(error: E, dependency: Dependency): E {
  if (typeof error === 'object' && error !== null && !tagged.has(error)) {
    tagged.set(error, dependency)
  }
  return error
}

/** Socket-level failures: the peer is down, unreachable, or went away mid-request. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
])

/** nats.js `ErrorCode`s that mean the server or the stream cannot answer right now. */
const NATS_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DRAINING',
  'CONNECTION_REFUSED',
  'CONNECTION_TIMEOUT',
  'DISCONNECT',
  'TIMEOUT',
  // No responders: JetStream is not enabled, or the stream has no leader right now.
  '503',
])

/** What the pg client says when a connection dies or cannot be had, without a SQLSTATE. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection closed',
]

export interface InfrastructureFailure {
  dependency: Dependency | undefined
  /** Short and fixed: never the library's message, which may carry hosts or user names. */
  reason: string
}

/** Recognises an infrastructure failure, or returns undefined (a bug, or the caller's fault). */
export function classifyInfrastructureError(error: unknown): InfrastructureFailure | undefined {
  if (typeof error !== 'object' || error === null || error instanceof ArgmaxError) return undefined
  const e = error as {
    name?: unknown
    code?: unknown
    message?: unknown
    $metadata?: { httpStatusCode?: number }
    $retryable?: unknown
    api_error?: { code?: number }
  }
  const code = typeof e.code === 'string' ? e.code : undefined
  const marked = tagged.get(error)

  // AWS SDK v3: every error carries `$metadata`, network failures included.
  if (e.$metadata !== undefined) {
    const status = e.$metadata.httpStatusCode
    if (code && NETWORK_CODES.has(code)) {
      return { dependency: marked ?? 's3', reason: networkReason(code) }
    }
    if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') {
      return { dependency: marked ?? 's3', reason: 'timed out' }
    }
    if (status === undefined) return { dependency: marked ?? 's3', reason: 'no answer' }
    if (status >= 500 || status === 429 || e.$retryable !== undefined) {
      return { dependency: marked ?? 's3', reason: `answered ${status}` }
    }
    return undefined
  }

  if (e.name === 'NatsError') {
    if (code && NATS_CODES.has(code)) {
      return { dependency: marked ?? 'nats', reason: natsReason(code) }
    }
    if (e.api_error?.code === 503) return { dependency: marked ?? 'nats', reason: 'JetStream 503' }
    return undefined
  }

  // pg: a SQLSTATE from the server. 08 connection exception, 53 insufficient resources
  // (too many connections, out of memory or disk), 57P operator intervention (shutdown,
  // restart, cannot connect now).
  if (code && /^[0-9A-Z]{5}$/.test(code) && 'severity' in e) {
    if (code.startsWith('08') || code.startsWith('53') || code.startsWith('57P')) {
      return { dependency: marked ?? 'postgres', reason: `SQLSTATE ${code}` }
    }
    return undefined
  }

  if (code && NETWORK_CODES.has(code)) return { dependency: marked, reason: networkReason(code) }
  if (marked === 'postgres' && typeof e.message === 'string') {
    const message = e.message
    if (PG_CONNECTION_MESSAGES.some((known) => message.includes(known))) {
      return { dependency: marked, reason: 'connection lost' }
    }
  }
  return undefined
}

/** The UnavailableError an infrastructure failure answers as, or undefined. */
export function unavailableFrom(error: unknown): UnavailableError | undefined {
  const failure = classifyInfrastructureError(error)
  if (!failure) return undefined
  const what = failure.dependency ?? 'a dependency'
  return new UnavailableError(`${what} is unavailable (${failure.reason}); retry later`, {
    ...(failure.dependency ? { dependency: failure.dependency } : {}),
  })
}

/** The error in the platform's vocabulary where it has a word for it; otherwise unchanged. */
export function asArgmaxError(error: unknown): unknown {
  return error instanceof ArgmaxError ? error : (unavailableFrom(error) ?? error)
}

function natsReason(code: string): string {
  if (code === 'TIMEOUT') return 'timed out'
  if (code === '503') return 'no responders'
  return code.toLowerCase().replaceAll('_', ' ')
}

function networkReason(code: string): string {
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timed out'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found'
  return 'connection lost'
}
