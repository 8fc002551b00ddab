/**
 * The event envelope every service writes. The body on the wire is the whole envelope as JSON;
 * `id` is also sent as the `Nats-Msg-Id` header (JetStream de-duplicates on it) and the W3C
 * trace context travels in `traceparent`/`tracestate` headers.
 */
export interface EventEnvelope<Type extends string = string, Data = unknown> {
  /** UUIDv7: time-ordered, also the JetStream message id. */
  id: string
  type: Type
  schemaVersion: number
  stream: string
  subject: string
  /** ISO-8601 UTC. */
  occurredAt: string
  /** The subject of the JWT that caused it, or `system:<component>`. */
  actor: string
  correlationId: string
  causationId: string | null
  data: Data
}

/** An envelope as read back from a stream, with its position. */
export interface RecordedEvent<Type extends string = string, Data = unknown> extends EventEnvelope<
  Type,
  Data
> {
  /** Stream sequence: the checkpoint of projections, the revision of aggregates. */
  sequence: number
}

/** What a caller supplies to append: the envelope minus what the backbone fills in. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  /** Optional: supply it to make a retry of the same logical append idempotent. */
  id?: string
  type: Type
  schemaVersion?: number
  data: Data
}

/** Who and why: carried from a command to every event it causes. */
export interface EventMetadata {
  actor: string
  correlationId?: string
  causationId?: string | null
  /** Clock injected so deciders and tests control time. */
  now?: () => Date
}
