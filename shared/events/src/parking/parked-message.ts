/** Why a message was parked. */
export type ParkReason =
  /** The handler threw on the last delivery `maxDeliver` allows. */
  | 'handler_failed'
  /** The payload is not an event envelope (or upcasting it threw): no retry can help. */
  | 'undecodable'
  /**
   * JetStream gave up on it (its MAX_DELIVERIES advisory) without the handler ever failing:
   * the process handling the last delivery died, hung or was stopped mid-message.
   */
  | 'delivery_limit'

/**
 * One parked message: where the original is (it stays in its own stream and is never copied),
 * who failed on it and why. Stored in the `PARKED` key-value bucket under its `id`.
 */
export interface ParkedMessage {
  /** `<stream>.<durable>.<sequence>`: one entry per message and consumer, whatever retried. */
  id: string
  stream: string
  /** The durable consumer that could not handle it: the one a replay goes back to. */
  durable: string
  sequence: number
  subject: string
  /** From the envelope; null when the payload could not be decoded. */
  eventId: string | null
  eventType: string | null
  reason: ParkReason
  error: { message: string; stack: string | null }
  /** Deliveries spent on it when it was parked. */
  deliveries: number
  /** ISO-8601 UTC. */
  parkedAt: string
  /** `replay_requested` from `replayParked` until the owning consumer has handled it. */
  status: 'parked' | 'replay_requested'
  /** Replays that failed again. */
  replays: number
}

const MAX_MESSAGE_CHARS = 4_000
const STACK_LINES = 8

/** `<stream>.<durable>.<sequence>`: stream and durable names cannot contain dots. */
export function parkedId(stream: string, durable: string, sequence: number): string {
  return `${stream}.${durable}.${sequence}`
}

/** The message and the head of the stack, bounded so an entry stays far below 1 MiB. */
export function describeError(error: unknown): ParkedMessage['error'] {
  if (!(error instanceof Error)) return { message: truncate(String(error)), stack: null }
  const stack = error.stack?.split('\n').slice(0, STACK_LINES).join('\n')
  return {
    message: truncate(error.message || error.name),
    stack: stack ? truncate(stack) : null,
  }
}

function truncate(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS ? text : `${text.slice(0, MAX_MESSAGE_CHARS)}…`
}
