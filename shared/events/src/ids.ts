import { createHash } from 'node:crypto'
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
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
