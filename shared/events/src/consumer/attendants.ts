import type { JsMsg } from 'nats'
import { describeError, type ParkedMessage, type ParkReason } from '../parking/parked-message.ts'
import {
  maxDeliveriesSubject,
  PARKED_REQUESTS_STREAM,
  replayRequestSubject,
  type ReplayRequest,
} from '../parking/parking-lot.ts'
import { retryDelayAfter } from './consumer-settings.ts'
import { decodeDelivery } from './delivery.ts'
import { ensureDurable } from './durable.ts'
import { startPullLoop, type PullLoop } from './pull-loop.ts'
import type { ConsumerRuntime } from './runtime.ts'

/** Deliveries of one advisory or replay request before it is left in PARKED_REQUESTS. */
const ATTENDANT_MAX_DELIVER = 50

/** Durable names on PARKED_REQUESTS: one per owning consumer and kind of work. */
export function attendantDurable(stream: string, durable: string, kind: 'advisories' | 'replays') {
  return `${stream}--${durable}--${kind}`
}

interface MaxDeliveriesAdvisory {
  stream: string
  consumer: string
  stream_seq: number
  deliveries: number
}

/**
 * Two small durables on PARKED_REQUESTS that run inside every process of the owning
 * consumer: one parks what JetStream gave up on without our handler failing (the
 * MAX_DELIVERIES advisory), one runs operators' replays through the owner's handler.
 */
export function startAttendants(runtime: ConsumerRuntime): PullLoop[] {
  const { stream, durable } = runtime.settings
  const advisories = attendantDurable(stream, durable, 'advisories')
  const replays = attendantDurable(stream, durable, 'replays')
  const source = (name: string) => ({ stream: PARKED_REQUESTS_STREAM, durable: name })
  // Each loop creates its durable before its first pull, and again after a failed one: an
  // attendant that could not be made at start (JetStream busy) or went away is made again,
  // rather than leaving this process without parking from advisories or replays.
  const attendant = (name: string, filterSubject: string) => ({
    ensure: () => ensureAttendant(runtime, name, filterSubject),
    ensured: false,
  })
  return [
    startPullLoop(
      runtime,
      source(advisories),
      (message) => settle(runtime, message, () => parkFromAdvisory(runtime, message)),
      attendant(advisories, maxDeliveriesSubject(stream, durable)),
    ),
    startPullLoop(
      runtime,
      source(replays),
      (message) => settle(runtime, message, () => replay(runtime, message)),
      attendant(replays, replayRequestSubject(stream, durable)),
    ),
  ]
}

function ensureAttendant(runtime: ConsumerRuntime, name: string, filterSubject: string) {
  return ensureDurable(runtime.jsm, {
    stream: PARKED_REQUESTS_STREAM,
    durable: name,
    filterSubject,
    deliverFrom: 'all',
    ackWaitMs: runtime.settings.ackWaitMs,
    maxDeliver: ATTENDANT_MAX_DELIVER,
    maxAckPending: 100,
  })
}

/** Acks when `work` resolved; otherwise retried later (the work itself is idempotent). */
async function settle(
  runtime: ConsumerRuntime,
  message: JsMsg,
  work: () => Promise<'ack' | 'leave'>,
) {
  try {
    if ((await work()) === 'ack') message.ack()
  } catch (error) {
    if (error instanceof SyntaxError) {
      // Not a request we wrote: retrying cannot help, and it must not block the queue.
      runtime.settings.log.error(
        { ...runtime.fields, request: message.subject, err: error },
        'dropping an unreadable parking request',
      )
      message.ack()
      return
    }
    const count = message.info.redeliveryCount
    const delay = retryDelayAfter(count, runtime.settings.retryDelaysMs)
    runtime.settings.log.warn(
      {
        ...runtime.fields,
        request: message.subject,
        delivery: count,
        err: error,
        retryInMs: delay,
      },
      'parking work failed; will retry',
    )
    message.nak(delay)
  }
}

async function parkFromAdvisory(runtime: ConsumerRuntime, message: JsMsg): Promise<'ack'> {
  const advisory = JSON.parse(message.string()) as MaxDeliveriesAdvisory
  const raw = await runtime.loadOriginal(advisory.stream_seq)
  if (!raw) {
    runtime.settings.log.warn(
      { ...runtime.fields, sequence: advisory.stream_seq },
      'JetStream gave up on a message the stream no longer holds; nothing to park',
    )
    return 'ack'
  }
  const decoded = decodeDelivery(raw, runtime.settings.upcast)
  const error = decoded.ok
    ? new Error(
        `JetStream stopped delivering it after ${advisory.deliveries} deliveries without the handler failing: the process handling the last one died, hung or stopped`,
      )
    : decoded.error
  const parked = await runtime.park(
    raw,
    decoded,
    decoded.ok ? 'delivery_limit' : 'undecodable',
    error,
    advisory.deliveries,
  )
  if (!parked) throw new Error(`could not park message ${advisory.stream_seq}`)
  return 'ack'
}

/**
 * One replay: the original message, loaded from its stream by sequence (nothing is appended
 * anywhere), through the owner's handler. Success removes the entry; failure parks it again
 * with the new error. The request stays claimed while the handler makes progress, so a replay
 * whose process dies is taken up again.
 */
async function replay(runtime: ConsumerRuntime, message: JsMsg): Promise<'ack' | 'leave'> {
  const { log } = runtime.settings
  const request = JSON.parse(message.string()) as ReplayRequest
  const stored = await runtime.parking.get(request.id)
  if (!stored) return 'ack' // discarded, or replayed already by an earlier request
  const { entry } = stored
  const raw = await runtime.loadOriginal(entry.sequence)
  if (!raw) {
    const gone = `stream ${entry.stream} no longer holds sequence ${entry.sequence} (its limits removed it)`
    await repark(runtime, entry, entry.reason, new Error(gone))
    return 'ack'
  }
  const decoded = decodeDelivery(raw, runtime.settings.upcast)
  if (!decoded.ok) {
    await repark(runtime, entry, 'undecodable', decoded.error)
    return 'ack'
  }
  const { event } = decoded
  const { outcome, claim } = await runtime.handleClaimed(
    message,
    raw,
    decoded,
    entry.deliveries + 1,
    true,
  )
  if (outcome.kind === 'lapsed') return 'leave'
  if (outcome.kind === 'done') {
    await runtime.parking.remove(entry.id)
    runtime.stats.replayed++
    log.info({ ...runtime.fields, parked: entry.id, type: event.type }, 'parked message replayed')
    return 'ack'
  }
  if (runtime.isHandBack(claim)) {
    message.nak()
    return 'leave'
  }
  const reparked = await repark(runtime, entry, 'handler_failed', outcome.error)
  if (reparked) await runtime.runParkedHook(event, reparked)
  return 'ack'
}

/** The entry back to `parked` with the replay's error, unless an operator discarded it meanwhile. */
async function repark(
  runtime: ConsumerRuntime,
  entry: ParkedMessage,
  reason: ParkReason,
  error: unknown,
): Promise<ParkedMessage | undefined> {
  for (;;) {
    const current = await runtime.parking.get(entry.id)
    if (!current) return undefined
    const next: ParkedMessage = {
      ...current.entry,
      status: 'parked',
      reason,
      error: describeError(error),
      replays: current.entry.replays + 1,
      parkedAt: runtime.settings.now().toISOString(),
    }
    if (await runtime.parking.replace(next, current.revision)) {
      runtime.settings.log.error(
        { ...runtime.fields, parked: entry.id, err: next.error.message },
        'replay failed; the message stays parked',
      )
      return next
    }
  }
}
