import { ConcurrencyError } from '@argmax/errors'
import type { JetStreamClient, JetStreamManager, NatsConnection, PubAck } from 'nats'
import { decodeRecorded, encodeEnvelope } from './codec.ts'
import type { EventEnvelope, EventMetadata, NewEvent, RecordedEvent } from './envelope.ts'
import { newEventId } from './ids.ts'
import { injectTraceContext, newHeaders } from './trace-context.ts'
import { noUpcasting, type Upcaster } from './upcasting.ts'

/** JetStream API error codes this module reacts to. */
const WRONG_LAST_SEQUENCE = 10071
const NO_MESSAGE_FOUND = 10037

export interface AppendOptions {
  /**
   * The sequence of the subject's last event as the caller saw it (0: the subject must be
   * empty), or 'any' to skip the check. A stale value raises ConcurrencyError, writes nothing.
   */
  expectedLastSubjectSequence: number | 'any'
  meta: EventMetadata
}

export interface AppendResult {
  lastSequence: number
  events: RecordedEvent[]
}

export interface EventStore {
  append(subject: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult>
  /** The subject's events in order, upcast to their current schema. */
  load(subject: string): Promise<RecordedEvent[]>
  /** 0 when the subject has no events. */
  lastSequenceOf(subject: string): Promise<number>
}

export interface EventStoreOptions {
  nc: NatsConnection
  now?: () => Date
  newId?: () => string
  upcast?: Upcaster
}

export function createEventStore({
  nc,
  now = () => new Date(),
  newId = newEventId,
  upcast = noUpcasting,
}: EventStoreOptions): EventStore {
  const js: JetStreamClient = nc.jetstream()
  let jsmPromise: Promise<JetStreamManager> | undefined
  const jsm = () => (jsmPromise ??= nc.jetstreamManager())
  const streamBySubject = new Map<string, string>()

  // Returns synchronously on a cache hit: append is on the hot path of every command.
  function streamOf(subject: string): string | Promise<string> {
    return streamBySubject.get(subject) ?? findStream(subject)
  }

  async function findStream(subject: string): Promise<string> {
    const stream = await (await jsm()).streams.find(subject)
    // Bounded: aggregates are many, but the cache only saves one request per load.
    if (streamBySubject.size > 10_000) streamBySubject.clear()
    streamBySubject.set(subject, stream)
    return stream
  }

  async function lastSequenceOf(subject: string): Promise<number> {
    const stream = await streamOf(subject)
    try {
      const last = await (await jsm()).streams.getMessage(stream, { last_by_subj: subject })
      return last.seq
    } catch (error) {
      if (apiErrorCode(error) === NO_MESSAGE_FOUND) return 0
      throw error
    }
  }

  return {
    lastSequenceOf,

    async append(subject, events, { expectedLastSubjectSequence, meta }) {
      const clock = meta.now ?? now
      const stream = await streamOf(subject)
      const actor = meta.actor
      const causationId = meta.causationId ?? null
      let correlationId = meta.correlationId
      const recorded: RecordedEvent[] = []
      // Each event of a batch expects its predecessor, so no concurrent writer can interleave.
      // JetStream 2.9 has no atomic batch: if the process dies mid-batch, the events already
      // acknowledged stay and the next command decides on top of them (their ids make a
      // retry of the same batch idempotent).
      let expected = expectedLastSubjectSequence
      for (const event of events) {
        const id = event.id ?? newId()
        correlationId ??= id
        const envelope: EventEnvelope = {
          id,
          type: event.type,
          schemaVersion: event.schemaVersion ?? 1,
          stream,
          subject,
          occurredAt: clock().toISOString(),
          actor,
          correlationId,
          causationId,
          data: event.data,
        }
        const headers = newHeaders()
        injectTraceContext(headers)
        let ack: PubAck
        try {
          ack = await js.publish(
            subject,
            encodeEnvelope(envelope),
            expected === 'any'
              ? { msgID: id, headers }
              : { msgID: id, headers, expect: { lastSubjectSequence: expected } },
          )
        } catch (error) {
          if (apiErrorCode(error) === WRONG_LAST_SEQUENCE && expected !== 'any') {
            throw new ConcurrencyError(subject, expected)
          }
          throw error
        }
        // Encoded already, so the envelope itself becomes the recorded event (no copy).
        recorded.push(Object.assign(envelope, { sequence: ack.seq }))
        if (expected !== 'any') expected = ack.seq
      }
      return { lastSequence: recorded.at(-1)?.sequence ?? 0, events: recorded }
    },

    async load(subject) {
      const last = await lastSequenceOf(subject)
      if (last === 0) return []
      const stream = await streamOf(subject)
      // An ordered consumer filtered to the subject reads it in order; we stop at the last
      // sequence known at the start instead of waiting for a timeout to detect the end.
      const consumer = await js.consumers.get(stream, { filterSubjects: subject })
      const messages = await consumer.consume({ max_messages: 512 })
      const events: RecordedEvent[] = []
      try {
        for await (const message of messages) {
          events.push(upcast(decodeRecorded(message.data, message.seq)))
          if (message.seq >= last) break
        }
      } finally {
        await messages.close()
      }
      return events
    },
  }
}

export function apiErrorCode(error: unknown): number | undefined {
  return (error as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code
}
