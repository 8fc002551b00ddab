import { Metadata, status, type StatusObject } from '@grpc/grpc-js'
import { ArgmaxError, ValidationError, type ErrorKind } from './errors.ts'
import { asArgmaxError } from './infrastructure.ts'

const codeByKind: Record<ErrorKind, status> = {
  validation: status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  forbidden: status.PERMISSION_DENIED,
  not_found: status.NOT_FOUND,
  conflict: status.FAILED_PRECONDITION,
  concurrency: status.ABORTED,
  payload_too_large: status.RESOURCE_EXHAUSTED,
  // The key is bound to another request: retrying the same call cannot succeed.
  idempotency_key_reused: status.FAILED_PRECONDITION,
  rate_limited: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
}

export function grpcCodeOf(kind: ErrorKind): status {
  return codeByKind[kind]
}

/** A gRPC status whose `details` names the problem; field issues also travel as metadata. */
export function toGrpcStatus(thrown: unknown): Partial<StatusObject> & { code: status } {
  const error = asArgmaxError(thrown)
  if (!(error instanceof ArgmaxError)) {
    return { code: status.INTERNAL, details: 'an unexpected error occurred' }
  }
  const metadata = new Metadata()
  const issues = error instanceof ValidationError ? error.issues : error.details['errors']
  if (Array.isArray(issues)) {
    for (const issue of issues as Array<{ field: string; message: string }>) {
      metadata.add('argmax-field', percentEncoded(`${issue.field}: ${issue.message}`))
    }
  }
  if ('retryAfterSeconds' in error.details) {
    metadata.add('retry-after', String(error.details['retryAfterSeconds']))
  }
  return { code: codeByKind[error.kind], details: error.message, metadata }
}

/**
 * An ASCII metadata value may hold only printable ASCII: grpc-js throws on anything else (a
 * `≥` in a message, an input named `Título`), and the call would never be answered. So the
 * value is written by gRPC's own rule for `grpc-message`: printable ASCII but `%` as it is,
 * everything else percent-encoded UTF-8 (`decodeURIComponent` reads it back).
 */
function percentEncoded(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]+/g, (run) => encodeURIComponent(run.toWellFormed()))
}
