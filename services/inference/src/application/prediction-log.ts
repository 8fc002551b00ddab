import {
  PREDICTION_LOG_SCHEMA_VERSION,
  upcastPredictionLogRecordV1,
  type PredictionLogBatch,
  type PredictionLogRecord,
  type PredictionLogRecordV1,
} from '@argmax/contracts'
import { UnavailableError, asArgmaxError } from '@argmax/errors'
import { createUpcasters, newEventId, type EventEnvelope } from '@argmax/events'
import type { JetStreamClient } from 'nats'
import { logSubject, type InferenceStreamNames } from '../streams.ts'

/** The event type of a message carrying one prediction log record (`data`: the record). */
export const PREDICTION_LOGGED = 'PredictionLogged'
/** The event type of a message carrying several records (`data`: a `PredictionLogBatch`). */
export const PREDICTIONS_LOGGED = 'PredictionsLogged'

export type LogMode = 'durable' | 'async'

/**
 * Publishes prediction log records to `INFERENCE_LOG` (`<prefix>.<model>`), in event envelopes
 * whose id is also the `Nats-Msg-Id` (JetStream drops a re-sent copy within the duplicate
 * window; the sink keys rows by prediction id beyond it).
 *
 * Records of one model that are ready in the same round of microtasks (the requests one merged
 * call to a model server answered), or while earlier ones are still being published, go out
 * together, as one `PredictionsLogged` message of up to 64 KiB (group commit): one JetStream
 * publish and ack, here and in nats-server, instead of one per request. A lone record is
 * published once the microtasks already queued have run, alone (`PredictionLogged`), so
 * batching adds no timer to a lone request; under load a record waits at most for the
 * publishes already in flight.
 *
 * - `durable`: `record` resolves once JetStream acknowledged the message holding each record,
 *   so an answer sent after it is logged even if the gateway dies the next instant; a JetStream
 *   that cannot acknowledge makes `record` fail for every request in that message (503: the
 *   callers retry, nothing was answered). At most `LANE_IN_FLIGHT` messages per model are in
 *   flight; what arrives meanwhile is the next message.
 * - `async`: `record` only queues. A bounded buffer (`bufferRecords`) is drained by up to
 *   `maxInFlight` messages at a time, each retried until acknowledged. When the buffer is full
 *   the new records are **shed** (dropped and counted in `dropped`) and the answer still goes
 *   out: memory never grows past the buffer, and the loss is bounded — a crash loses at most
 *   `bufferRecords` records (queued and in flight together); what JetStream could not take
 *   while the buffer was full is counted.
 * - `background` (both modes): records that nobody waits for (shadow answers, errors) go
 *   through the async buffer.
 * - `afterAnswer` (the async mode's path for an answered request; through the async buffer in
 *   either mode): the records are built, encoded and published only once the answer has gone
 *   out, so none of that work delays it — those of the answers within `lingerMs` together.
 *   Each call holds a place in the buffer from the moment it is made (shed at once when the
 *   buffer is full), so the loss bound above still holds.
 */
export interface PredictionLog {
  readonly mode: LogMode
  record(records: readonly PredictionLogRecord[]): Promise<void>
  afterAnswer(build: () => readonly PredictionLogRecord[]): void
  background(records: readonly PredictionLogRecord[]): void
  /** Counts are of records (a message may carry several). */
  stats(): {
    buffered: number
    inFlight: number
    published: number
    dropped: number
    failedPublishes: number
  }
  /** Publishes what is buffered (waiting at most `timeoutMs`), then stops. */
  stop(timeoutMs?: number): Promise<void>
}

export interface PredictionLogOptions {
  js: JetStreamClient
  names: InferenceStreamNames
  mode: LogMode
  bufferRecords: number
  /** Async buffer: messages in flight at once (default 4; each may carry many records). */
  maxInFlight?: number
  /** Waits between tries of a failed background publish (ms), the last repeating. */
  retryDelaysMs?: readonly number[]
  log: { warn(fields: Record<string, unknown>, message: string): void }
  newId?: () => string
  /** Publish timeout of one message (ms). */
  publishTimeoutMs?: number
  /** How long answered requests' records gather before they are built and published (ms). */
  lingerMs?: number
}

/** Durable mode: messages of one model in flight at once; later records wait and go together. */
const LANE_IN_FLIGHT = 2
/**
 * Largest group of records in one message. A record larger than this goes alone (log-records.ts
 * keeps every record's rows under 900 KiB, within NATS's 1 MiB max_payload). Kept small: the
 * gain of grouping is in the count of publishes, reached well before this size, and the sink
 * holds up to its batch size of messages in memory.
 */
const MAX_GROUP_BYTES = 64 * 1024
/** The envelope's own fields and `{"records":[…]}`, generously. */
const ENVELOPE_BYTES = 1024
/** The actor of a message carrying several callers' records. */
const BATCH_ACTOR = 'system:inference'

const encoder = new TextEncoder()

interface Entry {
  subject: string
  record: PredictionLogRecord
  /** The record as JSON: sized once here, and spliced into its message as is. */
  json: string
  bytes: number
}

interface Message {
  subject: string
  id: string
  bytes: Uint8Array
  records: number
  attempts: number
}

interface Waiting {
  entry: Entry
  settle(error?: unknown): void
}

export function createPredictionLog(options: PredictionLogOptions): PredictionLog {
  const newId = options.newId ?? newEventId
  const maxInFlight = options.maxInFlight ?? 4
  const delays = options.retryDelaysMs ?? [100, 250, 500, 1_000, 2_000, 5_000]
  const timeout = options.publishTimeoutMs ?? 5_000
  const lingerMs = options.lingerMs ?? 10
  let published = 0
  let dropped = 0
  let failedPublishes = 0

  const entryOf = (record: PredictionLogRecord): Entry => {
    const json = JSON.stringify(record)
    return {
      subject: logSubject(options.names, record.model),
      record,
      json,
      bytes: Buffer.byteLength(json),
    }
  }

  /** How many of `entries` (from `start`, same subject) fit one message; at least one. */
  const fitting = (entries: readonly Entry[], start: number, end: number): number => {
    const subject = entries[start]!.subject
    let size = ENVELOPE_BYTES + entries[start]!.bytes
    let n = 1
    while (start + n < end) {
      const next = entries[start + n]!
      if (next.subject !== subject || size + next.bytes + 1 > MAX_GROUP_BYTES) break
      size += next.bytes + 1
      n++
    }
    return n
  }

  const encode = (entries: readonly Entry[]): Message => {
    const id = newId()
    const first = entries[0]!
    const single = entries.length === 1
    const head: Omit<EventEnvelope, 'data'> = {
      id,
      type: single ? PREDICTION_LOGGED : PREDICTIONS_LOGGED,
      schemaVersion: PREDICTION_LOG_SCHEMA_VERSION,
      stream: options.names.log.stream,
      subject: first.subject,
      occurredAt: first.record.time,
      actor: single ? first.record.caller : BATCH_ACTOR,
      correlationId: single ? first.record.requestId : id,
      causationId: null,
    }
    // The envelope's JSON with `data` spliced in from the records' JSON (made once, when they
    // were sized) rather than stringifying every record a second time. `data` is the last
    // member either way, as encodeEnvelope writes it.
    const data = single
      ? first.json
      : `{"records":[${entries.map((entry) => entry.json).join(',')}]}`
    const text = `${JSON.stringify(head).slice(0, -1)},"data":${data}}`
    return {
      subject: first.subject,
      id,
      bytes: encoder.encode(text),
      records: entries.length,
      attempts: 0,
    }
  }

  const publish = (message: Message) =>
    options.js.publish(message.subject, message.bytes, { msgID: message.id, timeout })

  // Durable mode: one lane per subject, group commit.
  const lanes = new Map<string, { waiting: Waiting[]; inFlight: number; flushQueued: boolean }>()

  const flushLane = (subject: string) => {
    const lane = lanes.get(subject)!
    while (lane.inFlight < LANE_IN_FLIGHT && lane.waiting.length > 0) {
      const count = fitting(
        lane.waiting.map((waiting) => waiting.entry),
        0,
        lane.waiting.length,
      )
      const batch = lane.waiting.splice(0, count)
      lane.inFlight++
      publish(encode(batch.map((waiting) => waiting.entry))).then(
        () => {
          published += batch.length
          for (const waiting of batch) waiting.settle()
          laneSettled(subject)
        },
        (error: unknown) => {
          failedPublishes++
          for (const waiting of batch) waiting.settle(error)
          laneSettled(subject)
        },
      )
    }
  }

  const laneSettled = (subject: string) => {
    const lane = lanes.get(subject)!
    lane.inFlight--
    if (lane.inFlight === 0 && lane.waiting.length === 0) lanes.delete(subject)
    else flushLane(subject)
  }

  const commit = (entry: Entry) =>
    new Promise<void>((resolve, reject) => {
      const lane = lanes.get(entry.subject) ?? { waiting: [], inFlight: 0, flushQueued: false }
      lanes.set(entry.subject, lane)
      lane.waiting.push({
        entry,
        settle: (error) => (error === undefined ? resolve() : reject(error)),
      })
      // Flushed once the microtasks queued so far have run: the requests answered by one merged
      // call to a model server reach this point in the same round of microtasks, so their
      // records leave in one message rather than the first two alone. A lone request waits for
      // no timer, only for the microtasks already queued.
      if (lane.flushQueued) return
      lane.flushQueued = true
      queueMicrotask(() => {
        lane.flushQueued = false
        flushLane(entry.subject)
      })
    })

  // The async buffer: records queued, messages retried.
  const queue: Entry[] = []
  let head = 0
  /** Failed messages, tried again (same id) before anything newer. */
  const retries: Message[] = []
  let retriedRecords = 0
  let inFlightMessages = 0
  let inFlightRecords = 0
  let stopping = false
  let retryTimer: NodeJS.Timeout | undefined
  let drained: (() => void) | undefined

  /** `afterAnswer` calls waiting for the answer to go out: one place in the buffer each. */
  let later: Array<() => readonly PredictionLogRecord[]> = []
  let laterTimer: NodeJS.Timeout | undefined
  const buffered = () => queue.length - head + retriedRecords + later.length

  /** Queues records (shedding what does not fit); the caller pumps. */
  const queueUp = (records: readonly PredictionLogRecord[]) => {
    for (const record of records) {
      // In flight counts too: what a crash can lose is at most `bufferRecords` records.
      if (buffered() + inFlightRecords >= options.bufferRecords) {
        dropped++
        continue
      }
      queue.push(entryOf(record))
    }
  }

  function pump(): void {
    while (
      inFlightMessages < maxInFlight &&
      (retries.length > 0 || head < queue.length) &&
      !retryTimer
    ) {
      let message = retries.shift()
      if (message) {
        retriedRecords -= message.records
      } else {
        // Consecutive records of one model share a message.
        const count = fitting(queue, head, queue.length)
        message = encode(queue.slice(head, head + count))
        head += count
      }
      const item = message
      inFlightMessages++
      inFlightRecords += item.records
      publish(item).then(
        () => {
          published += item.records
          settle(item)
        },
        (error: unknown) => {
          failedPublishes++
          item.attempts++
          // Before anything newer, and after a pause: JetStream is slow or away, and
          // hammering it would not help.
          retries.push(item)
          retriedRecords += item.records
          if (item.attempts === 1 || item.attempts % 20 === 0) {
            options.log.warn(
              { err: error, attempts: item.attempts, records: item.records, buffered: buffered() },
              'publishing a prediction log record failed; retrying',
            )
          }
          const delay = delays[Math.min(item.attempts, delays.length) - 1]!
          retryTimer ??= setTimeout(() => {
            retryTimer = undefined
            pump()
          }, delay)
          settle(item)
        },
      )
    }
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head)
      head = 0
    }
  }

  function settle(message: Message): void {
    inFlightMessages--
    inFlightRecords -= message.records
    if (inFlightMessages === 0 && buffered() === 0) drained?.()
    pump()
  }

  /**
   * Builds and queues what `afterAnswer` held back during the last `lingerMs`, then publishes
   * it grouped: under light traffic too, one JetStream publish and ack carry several answers'
   * records instead of one each, and that work runs once per window rather than between one
   * request and the next (at one request in flight, the next arrives while the last one's
   * publish is being handled). The answers went out long before.
   */
  const flushLater = () => {
    clearTimeout(laterTimer)
    laterTimer = undefined
    const builds = later
    later = []
    for (const build of builds) {
      try {
        queueUp(build())
      } catch (error) {
        options.log.warn({ err: error }, 'building a prediction log record failed')
      }
    }
    pump()
    if (inFlightMessages === 0 && buffered() === 0) drained?.()
  }

  return {
    mode: options.mode,
    afterAnswer(build) {
      if (buffered() + inFlightRecords >= options.bufferRecords) {
        dropped++
        return
      }
      later.push(build)
      laterTimer ??= setTimeout(flushLater, lingerMs)
    },
    async record(records) {
      if (options.mode === 'async') {
        queueUp(records)
        pump()
        return
      }
      try {
        await Promise.all(records.map((record) => commit(entryOf(record))))
      } catch (error) {
        const translated = asArgmaxError(error)
        throw translated instanceof UnavailableError
          ? translated
          : new UnavailableError('the prediction log is unavailable (nats); retry later', {
              dependency: 'nats',
            })
      }
    },
    background(records) {
      if (stopping) return
      queueUp(records)
      pump()
    },
    stats: () => ({
      buffered: buffered(),
      inFlight: inFlightRecords,
      published,
      dropped,
      failedPublishes,
    }),
    async stop(timeoutMs = 10_000) {
      stopping = true
      flushLater()
      if (inFlightMessages === 0 && buffered() === 0) return
      await new Promise<void>((resolve) => {
        drained = resolve
        setTimeout(resolve, timeoutMs).unref()
      })
      clearTimeout(retryTimer)
    },
  }
}

/**
 * Messages written before schemaVersion 2 (rows with inputs and outputs as objects), walked up
 * to today's shape on read: a deployed `INFERENCE_LOG` holds them across an upgrade, and the
 * sink writes the same ClickHouse rows for them as before.
 */
export const predictionLogUpcast = createUpcasters({
  [PREDICTION_LOGGED]: {
    1: (data) => upcastPredictionLogRecordV1(data as PredictionLogRecordV1),
  },
  [PREDICTIONS_LOGGED]: {
    1: (data) => ({
      records: (data as { records: PredictionLogRecordV1[] }).records.map(
        upcastPredictionLogRecordV1,
      ),
    }),
  },
})

/**
 * The records a message of `INFERENCE_LOG` carries, in order, whichever its type; `data` in
 * today's shape (schemaVersion 2; older messages through `predictionLogUpcast`).
 */
export function loggedRecords(type: string, data: unknown): PredictionLogRecord[] {
  if (type === PREDICTION_LOGGED) return [data as PredictionLogRecord]
  if (type === PREDICTIONS_LOGGED) return (data as PredictionLogBatch).records
  return []
}
