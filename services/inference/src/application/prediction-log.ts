import type { PredictionLogRecord } from '@argmax/contracts'
import { UnavailableError, asArgmaxError } from '@argmax/errors'
import { encodeEnvelope, newEventId, type EventEnvelope } from '@argmax/events'
import type { JetStreamClient } from 'nats'
import { logSubject, type InferenceStreamNames } from '../streams.ts'

/** The event type of a prediction log record in `INFERENCE_LOG`. */
export const PREDICTION_LOGGED = 'PredictionLogged'

export type LogMode = 'durable' | 'async'

/**
 * Publishes prediction log records to `INFERENCE_LOG` (`<prefix>.<model>`), each in an event
 * envelope whose id is also the `Nats-Msg-Id` (JetStream drops a re-sent copy within the
 * duplicate window; the sink keys rows by prediction id beyond it).
 *
 * - `durable`: `record` resolves once JetStream acknowledged every record, so an answer sent
 *   after it is logged even if the gateway dies the next instant; a JetStream that cannot
 *   acknowledge makes `record` fail (503: the caller retries, nothing was answered).
 * - `async`: `record` only queues. A bounded buffer (`bufferRecords`) is drained by up to
 *   `maxInFlight` publishes at a time, each retried until acknowledged. When the buffer is full
 *   the new records are **shed** (dropped and counted in `dropped`) and the answer still goes
 *   out: memory never grows past the buffer, and the loss is bounded — a crash loses at most
 *   `bufferRecords` records (queued and in flight together); what JetStream could not take
 *   while the buffer was full is counted.
 * - `background` (both modes): records that nobody waits for (shadow answers, errors) go
 *   through the async buffer.
 */
export interface PredictionLog {
  record(records: readonly PredictionLogRecord[]): Promise<void>
  background(records: readonly PredictionLogRecord[]): void
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
  maxInFlight?: number
  /** Waits between tries of a failed background publish (ms), the last repeating. */
  retryDelaysMs?: readonly number[]
  log: { warn(fields: Record<string, unknown>, message: string): void }
  newId?: () => string
  /** Publish timeout of one record (ms). */
  publishTimeoutMs?: number
}

interface Pending {
  subject: string
  id: string
  bytes: Uint8Array
  attempts: number
}

export function createPredictionLog(options: PredictionLogOptions): PredictionLog {
  const newId = options.newId ?? newEventId
  const maxInFlight = options.maxInFlight ?? 256
  const delays = options.retryDelaysMs ?? [100, 250, 500, 1_000, 2_000, 5_000]
  const timeout = options.publishTimeoutMs ?? 5_000
  const queue: Pending[] = []
  let head = 0
  /** Failed publishes, tried again before anything newer. */
  const retries: Pending[] = []
  let inFlight = 0
  let published = 0
  let dropped = 0
  let failedPublishes = 0
  let stopping = false
  let retryTimer: NodeJS.Timeout | undefined
  let drained: (() => void) | undefined

  const encode = (record: PredictionLogRecord): Pending => {
    const id = newId()
    const subject = logSubject(options.names, record.model)
    const envelope: EventEnvelope<typeof PREDICTION_LOGGED, PredictionLogRecord> = {
      id,
      type: PREDICTION_LOGGED,
      schemaVersion: 1,
      stream: options.names.log.stream,
      subject,
      occurredAt: record.time,
      actor: record.caller,
      correlationId: record.requestId,
      causationId: null,
      data: record,
    }
    return { subject, id, bytes: encodeEnvelope(envelope), attempts: 0 }
  }

  const publish = (item: Pending) =>
    options.js.publish(item.subject, item.bytes, { msgID: item.id, timeout })

  const buffered = () => queue.length - head + retries.length

  const enqueue = (records: readonly PredictionLogRecord[]) => {
    for (const record of records) {
      // In flight counts too: what a crash can lose is at most `bufferRecords` records.
      if (buffered() + inFlight >= options.bufferRecords) {
        dropped++
        continue
      }
      queue.push(encode(record))
    }
    pump()
  }

  function pump(): void {
    while (inFlight < maxInFlight && (retries.length > 0 || head < queue.length) && !retryTimer) {
      const item = retries.shift() ?? queue[head++]!
      inFlight++
      publish(item).then(
        () => {
          published++
          settle()
        },
        (error: unknown) => {
          failedPublishes++
          item.attempts++
          // Before anything newer, and after a pause: JetStream is slow or away, and
          // hammering it would not help.
          retries.push(item)
          if (item.attempts === 1 || item.attempts % 20 === 0) {
            options.log.warn(
              { err: error, attempts: item.attempts, buffered: buffered() },
              'publishing a prediction log record failed; retrying',
            )
          }
          const delay = delays[Math.min(item.attempts, delays.length) - 1]!
          retryTimer ??= setTimeout(() => {
            retryTimer = undefined
            pump()
          }, delay)
          settle()
        },
      )
    }
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head)
      head = 0
    }
  }

  function settle(): void {
    inFlight--
    if (inFlight === 0 && buffered() === 0) drained?.()
    pump()
  }

  return {
    async record(records) {
      if (options.mode === 'async') {
        enqueue(records)
        return
      }
      try {
        await Promise.all(records.map((record) => publish(encode(record))))
        published += records.length
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
      enqueue(records)
    },
    stats: () => ({ buffered: buffered(), inFlight, published, dropped, failedPublishes }),
    async stop(timeoutMs = 10_000) {
      stopping = true
      if (inFlight === 0 && buffered() === 0) return
      await new Promise<void>((resolve) => {
        drained = resolve
        setTimeout(resolve, timeoutMs).unref()
      })
      clearTimeout(retryTimer)
    },
  }
}
