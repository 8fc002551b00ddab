import { ValidationError } from '@argmax/errors'
import { ROOT_CONTEXT, type Link } from '@opentelemetry/api'
import type { ConsumerMessages, JsMsg } from 'nats'
import type { RecordedEvent } from '../envelope.ts'
import { startAttendants } from './attendants.ts'
import { claimDeliveries, type Claim } from './claim.ts'
import { resolveSettings, retryDelayAfter } from './consumer-settings.ts'
import type { BatchConsumerOptions, RunningConsumer } from './consumer.types.ts'
import {
  decodeDelivery,
  inConsumerSpan,
  linkTo,
  rawOf,
  type DecodedEvent,
  type RawDelivery,
} from './delivery.ts'
import { ensureDurable } from './durable.ts'
import { endPull, keepPulling } from './pull-loop.ts'
import { ConsumerRuntime } from './runtime.ts'

const MAX_BATCH_CEILING = 10_000
/** Spans link to at most this many of a batch's publishers. */
const MAX_LINKS = 128

interface Item {
  message: JsMsg
  raw: RawDelivery
  decoded: DecodedEvent
}

/**
 * The batch mode of the platform's consumer, for sinks that must move tens of thousands of
 * events per second (e.g. the prediction log into ClickHouse): pulls continuously, hands the
 * handler up to `maxBatch` events (fewer when the stream goes quiet for `maxWaitMs`), and
 * acknowledges each message only after the handler resolved — after the rows are committed.
 * A failing batch is split in halves until the failing messages stand alone: the rest is
 * acknowledged, those are retried after `retryDelaysMs` and parked after `maxDeliver`, like
 * startConsumer's. Same parking, upcasting, trace links, progress claims and replays.
 */
export async function startBatchConsumer(options: BatchConsumerOptions): Promise<RunningConsumer> {
  const maxBatch = options.maxBatch ?? 1_000
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH_CEILING) {
    throw ValidationError.field('maxBatch', `must be a whole number from 1 to ${MAX_BATCH_CEILING}`)
  }
  const maxWaitMs = options.maxWaitMs ?? 50
  if (!Number.isInteger(maxWaitMs) || maxWaitMs < 0) {
    throw ValidationError.field('maxWaitMs', 'must be a whole number of milliseconds ≥ 0')
  }
  if (
    options.maxPullBytes !== undefined &&
    (!Number.isInteger(options.maxPullBytes) || options.maxPullBytes < 8 << 20)
  ) {
    // A pull delivers whole messages only (a NATS message may be 1 MiB and its headers), and
    // nats.js tops a pull up by as little as a quarter of the limit: a smaller one can ask
    // for less than the next message, over and over.
    throw ValidationError.field('maxPullBytes', 'must be a whole number of bytes ≥ 8 MiB')
  }
  const settings = resolveSettings(options, { maxAckPending: Math.max(1_000, 4 * maxBatch) })
  const runtime = await ConsumerRuntime.open(options.nc, settings, (event, context) =>
    options.handleBatch([event], context),
  )
  await ensureDurable(runtime.jsm, settings)
  const { log, ackWaitMs, maxDeliver, retryDelaysMs, upcast } = settings

  /** Fails one message alone: retried later, or parked on its last delivery. */
  async function failOne(item: Item, error: unknown): Promise<void> {
    runtime.stats.failed++
    const count = item.message.info.redeliveryCount
    const delay = retryDelayAfter(count, retryDelaysMs)
    if (count < maxDeliver) {
      log.warn(
        {
          ...runtime.fields,
          sequence: item.raw.sequence,
          delivery: count,
          err: error,
          retryInMs: delay,
        },
        'batch handler failed on this message alone; will retry',
      )
      item.message.nak(delay)
      return
    }
    const parked = await runtime.park(item.raw, item.decoded, 'handler_failed', error, count)
    if (parked) item.message.term()
    else item.message.nak(delay)
  }

  /** Hands `items` to the handler; on failure, halves until the culprits are alone. */
  async function settle(items: Item[], claim: Claim): Promise<'settled' | 'lapsed'> {
    const events: RecordedEvent[] = items.map((item) => item.decoded.event)
    const links = items
      .slice(0, MAX_LINKS)
      .map((item) => linkTo(item.decoded.trace))
      .filter((link): link is Link => link !== undefined)
    const outcome = await runtime.runClaimed(claim, () =>
      inConsumerSpan(
        `${settings.durable} process batch`,
        ROOT_CONTEXT,
        {
          'messaging.system': 'nats',
          'messaging.consumer.group.name': settings.durable,
          'messaging.batch.message_count': items.length,
        },
        () =>
          options.handleBatch(events, {
            progress: claim.progress,
            signal: claim.signal,
            replay: false,
          }),
        links,
      ),
    )
    if (outcome.kind === 'lapsed') return 'lapsed'
    if (outcome.kind === 'done') {
      for (const item of items) item.message.ack()
      runtime.stats.handled += items.length
      return 'settled'
    }
    if (runtime.isHandBack(claim)) {
      for (const item of items) item.message.nak()
      return 'settled'
    }
    if (items.length === 1) {
      await failOne(items[0]!, outcome.error)
      return 'settled'
    }
    const half = Math.ceil(items.length / 2)
    if ((await settle(items.slice(0, half), claim)) === 'lapsed') return 'lapsed'
    return settle(items.slice(half), claim)
  }

  async function handle(messages: JsMsg[]): Promise<void> {
    const items: Item[] = []
    for (const message of messages) {
      const raw = rawOf(message)
      const decoded = decodeDelivery(raw, upcast)
      if (decoded.ok) {
        items.push({ message, raw, decoded })
        continue
      }
      const count = message.info.redeliveryCount
      if (await runtime.park(raw, decoded, 'undecodable', decoded.error, count)) message.term()
      else message.nak(retryDelayAfter(count, retryDelaysMs))
    }
    if (items.length === 0) return
    const claim = claimDeliveries(
      items.map((item) => item.message),
      ackWaitMs,
    )
    try {
      if ((await settle(items, claim)) === 'lapsed') {
        runtime.stats.lapsed++
        log.warn(
          { ...runtime.fields, size: items.length },
          'batch handler made no progress for the ack wait; its unsettled messages go back',
        )
      }
    } finally {
      claim.release()
    }
  }

  let current: ConsumerMessages | undefined
  // Made above (a consumer that cannot make its durable does not start); made again by the
  // loop after a failed pull, should it have gone away.
  const durable = { ensure: () => ensureDurable(runtime.jsm, settings), ensured: true }
  const loop = keepPulling(runtime, runtime.fields, durable, async (progressed) => {
    const consumer = await runtime.nc.jetstream().consumers.get(settings.stream, settings.durable)
    if (runtime.stopping) return
    current = await consumer.consume({
      ...(options.maxPullBytes ? { max_bytes: options.maxPullBytes } : { max_messages: maxBatch }),
      expires: settings.idlePullMs,
      // Left to itself, consume() waits forever on a durable that went away; ended, the loop
      // makes the durable again.
      abort_on_missing_resource: true,
    })
    try {
      for (const taker = batchesOf(current, maxBatch, maxWaitMs); ;) {
        const batch = await taker.next()
        if (!batch) break
        if (runtime.stopping) {
          for (const message of batch) message.nak()
          continue
        }
        await handle(batch)
        progressed()
      }
    } finally {
      current = undefined
    }
  })
  const attendants = startAttendants(runtime)
  log.info({ ...runtime.fields, maxBatch, maxWaitMs }, 'batch consumer started')

  const pulling = {
    async stop() {
      if (current) await endPull(current)
      await loop
    },
  }
  return runtime.running([pulling, ...attendants])
}

/**
 * Groups a continuous pull into batches: waits as long as needed for a first message, then
 * takes what follows until `maxBatch` or until `maxWaitMs` pass without filling it. A pending
 * read that lost the race against the wait is kept for the next batch, never dropped.
 */
function batchesOf(messages: ConsumerMessages, maxBatch: number, maxWaitMs: number) {
  const iterator = messages[Symbol.asyncIterator]()
  let pending: Promise<IteratorResult<JsMsg>> | undefined
  let ended = false
  const TIMEOUT = Symbol('timeout')
  return {
    async next(): Promise<JsMsg[] | undefined> {
      if (ended) return undefined
      const first = await (pending ?? iterator.next())
      pending = undefined
      if (first.done) {
        ended = true
        return undefined
      }
      const batch = [first.value]
      let timer: NodeJS.Timeout | undefined
      const waited = new Promise<typeof TIMEOUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMEOUT), maxWaitMs)
      })
      try {
        while (batch.length < maxBatch) {
          pending ??= iterator.next()
          const next = await Promise.race([pending, waited])
          if (next === TIMEOUT) break
          pending = undefined
          if (next.done) {
            ended = true
            break
          }
          batch.push(next.value)
        }
      } finally {
        clearTimeout(timer)
      }
      return batch
    },
  }
}
