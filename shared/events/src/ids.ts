import { hash } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'

/** UUIDv7: time-ordered, so ids sort by creation; also the JetStream `Nats-Msg-Id`. */
export function newEventId(): string {
  return uuidv7()
}

/** `<context>.<aggregate>.<id>`, e.g. `training.run.0190…`. */
export function subjectOf(context: string, aggregate: string, id: string): string {
  for (const [name, token] of Object.entries({ context, aggregate, id })) {
    if (!token || /[\s.*>]/.test(token)) {
      throw new Error(`${name} "${token}" cannot be a subject token (no dots, spaces, * or >)`)
    }
  }
  return `${context}.${aggregate}.${id}`
}

/**
 * A UUID (version 8, RFC 9562's "custom" layout) derived from a name: the same name gives the
 * same id in every process, after any crash. For events that must be written at most once
 * however often their cause is retried (JetStream's duplicate window drops a second append of
 * the same id) and for aggregates created under an idempotency key (see idempotency.ts).
 */
export function deterministicUuid(name: string): string {
  // The one-shot hash as hex, version and variant set in the text: no Hash object or Buffer per
  // id, which showed when ids are made per row (a 10,000-label request makes 10,000). Same id as
  // setting the bits in the digest's bytes: byte 6's high nibble is 8, byte 8's top bits 10.
  const hex = hash('sha256', name, 'hex')
  const variant = VARIANT_NIBBLE[Number.parseInt(hex[16]!, 16) & 0x3]!
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

const VARIANT_NIBBLE = ['8', '9', 'a', 'b']
