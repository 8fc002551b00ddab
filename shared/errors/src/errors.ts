/**
 * The one error vocabulary of Argmax. Every layer throws these; the HTTP edge maps them once
 * to RFC 9457 problem details and the gRPC edge once to a status code (see the two mappers).
 * Expected business outcomes are events, not exceptions: these are for refusing a request.
 */
export type ErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'concurrency'
  | 'payload_too_large'
  | 'idempotency_key_reused'
  | 'rate_limited'
  | 'unavailable'
  | 'internal'

export interface FieldIssue {
  /** JSON-pointer-like path of the offending field, e.g. `/inputs/0/datatype` or `size`. */
  field: string
  message: string
}

export abstract class ArgmaxError extends Error {
  abstract readonly kind: ErrorKind
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = new.target.name
  }
}

export class ValidationError extends ArgmaxError {
  readonly kind = 'validation'
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message, { issues })
  }
  static field(field: string, message: string): ValidationError {
    return new ValidationError(`${field}: ${message}`, [{ field, message }])
  }
  /** Several issues at once, the message naming each (`name: must not be blank; tags/2: …`). */
  static of(issues: FieldIssue[]): ValidationError {
    return new ValidationError(issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues)
  }
}

export class UnauthenticatedError extends ArgmaxError {
  readonly kind = 'unauthenticated'
}

export class ForbiddenError extends ArgmaxError {
  readonly kind = 'forbidden'
}

export class NotFoundError extends ArgmaxError {
  readonly kind = 'not_found'
  constructor(what: string, id: string) {
    super(`${what} ${id} not found`, { what, id })
  }
}

/** The request is valid but the resource's state forbids it (e.g. upload to a deleted dataset). */
export class IllegalStateError extends ArgmaxError {
  readonly kind = 'conflict'
}

/**
 * An optimistic-concurrency check failed: the aggregate moved on since it was read. Command
 * handling retries it; once its retries are spent it reaches the client as 409 (problem type
 * `concurrency`): nothing was written and the same request may be sent again.
 */
export class ConcurrencyError extends ArgmaxError {
  readonly kind = 'concurrency'
  constructor(
    readonly subject: string,
    readonly expectedSequence: number,
    message = `expected last sequence ${expectedSequence} on ${subject} is stale`,
  ) {
    super(message, { subject, expectedSequence })
  }
}

export class PayloadTooLargeError extends ArgmaxError {
  readonly kind = 'payload_too_large'
  constructor(
    readonly field: string,
    readonly limit: number,
    readonly actual: number,
  ) {
    super(`${field} is ${actual} bytes; the limit is ${limit} bytes`, { field, limit, actual })
  }
}

export class RateLimitedError extends ArgmaxError {
  readonly kind = 'rate_limited'
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, { retryAfterSeconds })
  }
}

/**
 * An `Idempotency-Key` already used by the same caller for a request with a different body
 * (422, as the IETF Idempotency-Key draft says): the client reused a key by mistake, and
 * answering the first request's result would hide that.
 */
export class IdempotencyKeyReusedError extends ArgmaxError {
  readonly kind = 'idempotency_key_reused'
  constructor(
    readonly field: string,
    what: string,
  ) {
    super(`${field} was already used for a different ${what}: use a new key for a new request`, {
      errors: [{ field, message: `was already used for a different ${what}` }],
    })
  }
}

/** Seconds a client should wait before retrying a 503, when nothing better is known. */
export const DEFAULT_RETRY_AFTER_SECONDS = 2

/**
 * A dependency (PostgreSQL, NATS, S3, …) or a part of the service cannot serve the request now;
 * retrying later may succeed (503 with `Retry-After`, gRPC UNAVAILABLE with `retry-after`).
 */
export class UnavailableError extends ArgmaxError {
  readonly kind = 'unavailable'
  readonly retryAfterSeconds: number
  /** `details.dependency` names what failed (`postgres`, `nats`, `s3`, …) in the problem body. */
  constructor(
    message: string,
    details: Record<string, unknown> & { dependency?: string; retryAfterSeconds?: number } = {},
  ) {
    const retryAfterSeconds = details.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS
    super(message, { ...details, retryAfterSeconds })
    this.retryAfterSeconds = retryAfterSeconds
  }
}
