import type { RecordedEvent } from '@argmax/events'
import type { ProjectionSelector } from './projection.ts'

/** A message as read from the stream, before decoding. */
export interface StoredMessage {
  sequence: number
  subject: string
  data: Uint8Array
}

export interface BatchPlan {
  /** The events to apply, in stream order. */
  events: RecordedEvent[]
  /** The checkpoint once they are applied: the last message examined, applied or not. */
  through: number
  /** The first message that could not be decoded or upcast; the plan stops before it. */
  undecodable?: { sequence: number; error: unknown }
}

/**
 * Decides what a batch does to a projection whose checkpoint is `after`: messages at or below it
 * were applied already (redelivery, or another runner got there first) and are skipped; messages
 * on other subjects or of types the projection does not handle only advance the checkpoint. A
 * message that cannot be decoded ends the plan: nothing is ever skipped silently.
 */
export function planBatch(
  messages: readonly StoredMessage[],
  after: number,
  selector: ProjectionSelector,
  decode: (message: StoredMessage) => RecordedEvent,
): BatchPlan {
  const events: RecordedEvent[] = []
  let through = after
  for (const message of messages) {
    if (message.sequence <= through) continue
    if (selector.wantsSubject(message.subject)) {
      let event: RecordedEvent
      try {
        event = decode(message)
      } catch (error) {
        return { events, through, undecodable: { sequence: message.sequence, error } }
      }
      if (selector.wantsType(event.type)) events.push(event)
    }
    through = message.sequence
  }
  return { events, through }
}
