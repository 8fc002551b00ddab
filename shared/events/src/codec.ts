import type { EventEnvelope, RecordedEvent } from './envelope.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  return encoder.encode(JSON.stringify(envelope))
}

/** Raw decode of a stored message; upcasting to the current schema happens on top of this. */
export function decodeRecorded(payload: Uint8Array, sequence: number): RecordedEvent {
  const envelope = JSON.parse(decoder.decode(payload)) as EventEnvelope
  return { ...envelope, sequence }
}
