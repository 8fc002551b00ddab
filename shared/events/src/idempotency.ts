import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import { IdempotencyKeyReusedError, ValidationError } from '@argmax/errors'
import { deterministicUuid } from './ids.ts'

/**
 * Idempotent creates without a second store. A create that comes with an `Idempotency-Key`
 * gets the id of its new aggregate from (caller, scope, key) instead of a fresh UUIDv7, and
 * records the hash of its request in the creation event. A retry — after a timeout, from
 * another replica, after a crash — lands on the same subject: the event store's optimistic
 * concurrency lets exactly one creation through, and the decider answers the others "already
 * created" when the hashes match (no new event: the same id and answer) or refuses a different
 * request under the same key (422).
 */

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key'
/** Where problems point when the key is bad or reused: the header, in fastify's words. */
export const IDEMPOTENCY_KEY_FIELD = `header/${IDEMPOTENCY_KEY_HEADER}`

// Visible ASCII without the double quote: what the IETF draft's sf-string and Stripe's bare
// keys have in common (UUIDs, ULIDs, base64url all fit).
const KEY_PATTERN = /^[\x21\x23-\x7e]{1,255}$/

/**
 * The key of a request, from a header or metadata value: undefined when absent. Accepts the
 * draft's quoted form (`"8e03978e-…"`) and a bare key; anything else is a ValidationError
 * naming `field`.
 */
export function parseIdempotencyKey(
  raw: unknown,
  field: string = IDEMPOTENCY_KEY_FIELD,
): string | undefined {
  if (raw === undefined) return undefined
  const value = Array.isArray(raw) ? (raw.length === 1 ? raw[0] : undefined) : raw
  if (typeof value !== 'string') throw ValidationError.field(field, 'must be given once')
  const key =
    value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value
  if (!KEY_PATTERN.test(key)) {
    throw ValidationError.field(
      field,
      'must be 1 to 255 visible ASCII characters without double quotes (e.g. a UUID), optionally in double quotes',
    )
  }
  return key
}

/**
 * The id of an aggregate created under `key`: a UUID from SHA-256 of (caller, scope, key).
 * The caller is part of it so two users' keys never meet; the scope (e.g. `dataset.create`,
 * `dataset.<id>.upload`) so one key used on two kinds of create makes two aggregates. Hashing
 * keeps the id a valid subject token whatever the key holds, reveals neither key nor caller,
 * and leaves ~122 random bits, so it cannot collide with another key's id in practice.
 */
export function idempotentId(parts: { caller: string; scope: string; key: string }): string {
  // A JSON array: no separator a caller could forge ('a:b' + 'c' versus 'a' + 'b:c').
  return deterministicUuid(
    `argmax.idempotency.v1:${JSON.stringify([parts.caller, parts.scope, parts.key])}`,
  )
}

/**
 * SHA-256 (hex) of the request's canonical JSON (RFC 8785: sorted keys, one spelling per
 * number and string), so the same request sent with other whitespace or key order matches.
 */
export function requestHash(request: unknown): string {
  let canonical: string | undefined
  try {
    canonical = canonicalize(request)
  } catch (error) {
    // Lone surrogates, NaN: JSON.parse can produce the former from `\ud800`.
    throw ValidationError.field('body', `cannot be canonicalised: ${(error as Error).message}`)
  }
  return createHash('sha256')
    .update(canonical ?? '')
    .digest('hex')
}

export interface CreateIdentity {
  /** The new aggregate's id: derived from the key, or a fresh one without a key. */
  id: string
  /** For the creation event and the decider; undefined without a key (creates as before). */
  requestHash: string | undefined
}

/** The id and request hash of a create, with or without an idempotency key. */
export function identifyCreate(options: {
  key: string | undefined
  caller: string
  scope: string
  request: unknown
  newId: () => string
}): CreateIdentity {
  const { key, caller, scope, request } = options
  if (key === undefined) return { id: options.newId(), requestHash: undefined }
  return { id: idempotentId({ caller, scope, key }), requestHash: requestHash(request) }
}

/**
 * For a decider whose create meets an aggregate that exists: true when the same request created
 * it (a retry — decide no event, answer as the first time); IdempotencyKeyReusedError (422) when
 * the key came with a different request; false when the command carries no hash (created
 * without a key: the decider's usual "already exists").
 */
export function isRepeatedCreate(
  recordedHash: string | undefined,
  commandHash: string | undefined,
): boolean {
  if (commandHash === undefined) return false
  if (recordedHash === commandHash) return true
  throw new IdempotencyKeyReusedError(IDEMPOTENCY_KEY_FIELD, 'request body')
}
