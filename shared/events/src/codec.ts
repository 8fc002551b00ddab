import type { EventEnvelope, RecordedEvent } from './envelope.ts'
import { mayHoldUnstorableText, storableJson } from './storable-text.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * The envelope as stored. Text PostgreSQL cannot store (U+0000, a lone surrogate) is written
 * as U+FFFD, so no event can stop a projection (storable-text.ts); the check is one scan of
 * the JSON, and the rare event that needs it is encoded a second time.
 */
export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  const json = JSON.stringify(envelope)
  return encoder.encode(mayHoldUnstorableText(json) ? JSON.stringify(envelope, storableJson) : json)
}

/** Raw decode of a stored message; upcasting to the current schema happens on top of this. */
export function decodeRecorded(payload: Uint8Array, sequence: number): RecordedEvent {
  const envelope: unknown = JSON.parse(decoder.decode(payload))
  if (typeof envelope !== 'object' || envelope === null) return { sequence } as RecordedEvent
  // The parsed object itself, not a copy: sinks decode tens of thousands a second, and the
  // copy cost twice the parse.
  const recorded = envelope as RecordedEvent
  recorded.sequence = sequence
  return recorded
}

/**
 * Like decodeRecorded, but refuses what is not an envelope (JSON that is not an object, or one
 * without a string `id` and `type`, a numeric `schemaVersion` and a `data` field), so a
 * consumer can tell a poison payload from a handler failure.
 */
export function decodeEnvelope(payload: Uint8Array, sequence: number): RecordedEvent {
  const recorded = decodeRecorded(payload, sequence) as Partial<RecordedEvent> | null
  if (
    typeof recorded !== 'object' ||
    recorded === null ||
    typeof recorded.id !== 'string' ||
    typeof recorded.type !== 'string' ||
    typeof recorded.schemaVersion !== 'number' ||
    !('data' in recorded)
  ) {
    throw new Error(
      `message ${sequence} is not an event envelope (needs a string id and type, a numeric schemaVersion and data)`,
    )
  }
  return recorded as RecordedEvent
}
