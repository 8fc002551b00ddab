import { ValidationError } from '@argmax/errors'
import type { JsMsg } from 'nats'
import { startAttendants } from './attendants.ts'
import { resolveSettings, retryDelayAfter } from './consumer-settings.ts'
import type { ConsumerOptions, RunningConsumer } from './consumer.types.ts'
import { decodeDelivery, rawOf } from './delivery.ts'
import { ensureDurable } from './durable.ts'
import { startPullLoop, type PullLoop } from './pull-loop.ts'
import { ConsumerRuntime } from './runtime.ts'

/**
 * The platform's durable consumer: every service that reacts to events uses it (or its batch
 * variant, startBatchConsumer). A durable pull consumer with explicit acks; each message is
 * pulled when a handler slot is free and acknowledged only after its handler resolved.
 *
 * - A failing handler gets the message again after `retryDelaysMs`; after `maxDeliver`
 *   deliveries it is parked (see `PARKED`) and terminated, so it blocks nothing. A payload that
 *   is not an event envelope is parked at once. A message whose last delivery died with its
 *   process is parked from JetStream's MAX_DELIVERIES advisory. `onParked` records the
 *   business outcome.
 * - While the handler reports progress the delivery stays claimed; a handler that stops
 *   making progress loses it after the ack wait and JetStream redelivers it.
 * - Events arrive upcast to their current schema, inside the publisher's trace.
 * - Operators replay parked messages through this same consumer (`argmax parked replay`).
 */
export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const settings = resolveSettings(options)
  const concurrency = options.concurrency ?? 1
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw ValidationError.field('concurrency', `must be a whole number from 1 to 256`)
  }
  const runtime = await ConsumerRuntime.open(options.nc, settings, options.handler)
  await ensureDurable(runtime.jsm, settings)
  const { log, maxDeliver, retryDelaysMs, upcast } = settings

  async function onMessage(message: JsMsg): Promise<void> {
    const raw = rawOf(message)
    const deliveryCount = message.info.redeliveryCount
    const fields = { ...runtime.fields, sequence: raw.sequence, delivery: deliveryCount }
    const decoded = decodeDelivery(raw, upcast)
    if (!decoded.ok) {
      const parked = await runtime.park(raw, decoded, 'undecodable', decoded.error, deliveryCount)
      if (parked) message.term()
      else message.nak(retryDelayAfter(deliveryCount, retryDelaysMs))
      return
    }
    const { event } = decoded
    const { outcome, claim } = await runtime.handleClaimed(
      message,
      raw,
      decoded,
      deliveryCount,
      false,
    )
    if (outcome.kind === 'done') {
      message.ack()
      runtime.stats.handled++
      return
    }
    if (outcome.kind === 'lapsed') {
      runtime.stats.lapsed++
      log.warn(
        { ...fields, type: event.type },
        'handler made no progress for the ack wait; the message goes back',
      )
      return
    }
    if (runtime.isHandBack(claim)) {
      message.nak()
      return
    }
    runtime.stats.failed++
    if (deliveryCount < maxDeliver) {
      const delay = retryDelayAfter(deliveryCount, retryDelaysMs)
      log.warn(
        { ...fields, type: event.type, err: outcome.error, retryInMs: delay },
        'handler failed; will retry',
      )
      message.nak(delay)
      return
    }
    const parked = await runtime.park(raw, decoded, 'handler_failed', outcome.error, deliveryCount)
    // Unparked on the last delivery: the nak makes JetStream give up and advise, which parks it.
    if (parked) message.term()
    else message.nak(retryDelayAfter(deliveryCount, retryDelaysMs))
  }

  // Made above (a consumer that cannot make its durable does not start); made again by a loop
  // whose pull fails, should it have gone away.
  const durable = { ensure: () => ensureDurable(runtime.jsm, settings), ensured: true }
  const loops: PullLoop[] = Array.from({ length: concurrency }, () =>
    startPullLoop(runtime, settings, onMessage, durable),
  )
  const attendants = startAttendants(runtime)
  log.info({ ...runtime.fields, concurrency }, 'consumer started')

  return runtime.running([...loops, ...attendants])
}
