import { context, propagation, trace, TraceFlags } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { describe, expect, it } from 'vitest'
import {
  ClaimLapsedError,
  ConsumerStoppingError,
  createUpcasters,
  silentConsumerLogger,
  startConsumer,
  subjectOf,
  type EventContext,
  type RecordedEvent,
} from '../src/index.ts'
import {
  freshStream,
  indexOf,
  meta,
  seed,
  settledConsumer,
  sleep,
  things,
  waitFor,
} from './support.ts'

const quiet = { log: silentConsumerLogger }

describe('the durable consumer', () => {
  it('delivers every event, redelivers after a handler failure, and resumes after stop', async () => {
    const { nc, stream, context: ctx } = await freshStream()
    const store = await seed(nc, things(ctx, 5))
    const handled: number[] = []
    const deliveries: Array<[number, number]> = []
    let failedOnce = false
    const handler = async (event: RecordedEvent, delivery: EventContext) => {
      deliveries.push([indexOf(event), delivery.deliveryCount])
      if (indexOf(event) === 2 && !failedOnce) {
        failedOnce = true
        throw new Error('transient')
      }
      handled.push(indexOf(event))
    }
    const options = { nc, stream, durable: 'reader', handler, retryDelaysMs: [50], ...quiet }
    const first = await startConsumer(options)
    await waitFor(() => handled.length === 5)
    await first.stop()
    expect([...handled].sort()).toEqual([0, 1, 2, 3, 4])
    expect(deliveries.filter(([i]) => i === 2).map(([, count]) => count)).toEqual([1, 2])
    expect(first.stats()).toMatchObject({ handled: 5, failed: 1, parked: 0 })

    await store.append(subjectOf(ctx, 'thing', 'late'), [{ type: 'Made', data: { i: 5 } }], {
      expectedLastSubjectSequence: 0,
      meta,
    })
    const second = await startConsumer(options)
    await waitFor(() => handled.length === 6)
    await second.stop()
    // The durable resumed after what it had acknowledged: only the new event came.
    expect(handled.at(-1)).toBe(5)
    const info = await settledConsumer(nc, stream, 'reader')
    expect(info.num_ack_pending).toBe(0)
    expect(info.num_pending).toBe(0)
    // Max deliver is capped, never JetStream's unlimited -1.
    expect(info.config.max_deliver).toBe(5)
  })

  it('makes its durable again when it goes away under it, and carries on', async () => {
    const { nc, stream, context: ctx } = await freshStream()
    const store = await seed(nc, things(ctx, 2))
    const handled: number[] = []
    const consumer = await startConsumer({
      nc,
      stream,
      durable: 'remade',
      handler: async (event) => void handled.push(indexOf(event)),
      ...quiet,
    })
    await waitFor(() => handled.length === 2)
    const jsm = await nc.jetstreamManager()
    await jsm.consumers.delete(stream, 'remade')
    await store.append(subjectOf(ctx, 'thing', 'after'), [{ type: 'Made', data: { i: 2 } }], {
      expectedLastSubjectSequence: 0,
      meta,
    })
    // Made again from the stream's start, as a restarted process would: handlers are idempotent.
    await waitFor(() => handled.includes(2), 20_000, 'the event appended after the delete')
    await consumer.stop()
    expect((await jsm.consumers.info(stream, 'remade')).config.durable_name).toBe('remade')
  })

  it('stop() waits for the handler in progress and acknowledges its event', async () => {
    const { nc, stream, context: ctx } = await freshStream()
    await seed(nc, [subjectOf(ctx, 'thing', 'slow')])
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    let started = false
    let finished = false
    const consumer = await startConsumer({
      nc,
      stream,
      durable: 'slow',
      ...quiet,
      handler: async () => {
        started = true
        await gate
        finished = true
      },
    })
    await waitFor(() => started)
    let stopped = false
    const stopping = consumer.stop().then(() => (stopped = true))
    // A server round trip gives stop() every chance to resolve early if it were going to.
    await nc.flush()
    expect(stopped).toBe(false)
    release()
    await stopping
    expect(finished).toBe(true)
    const info = await settledConsumer(nc, stream, 'slow')
    expect(info.num_ack_pending).toBe(0)
    expect(info.delivered.stream_seq).toBe(1)
  })

  it("hands the message in hand back on stop in 'hand-back' mode, for another process to finish", async () => {
    const { nc, stream, context: ctx } = await freshStream()
    await seed(nc, [subjectOf(ctx, 'thing', 'long')])
    let abortedWith: unknown
    let started = false
    const first = await startConsumer({
      nc,
      stream,
      durable: 'long',
      stopMode: 'hand-back',
      ...quiet,
      handler: (_event, { signal }) => {
        started = true
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject((abortedWith = signal.reason))),
        )
      },
    })
    await waitFor(() => started)
    await first.stop()
    expect(abortedWith).toBeInstanceOf(ConsumerStoppingError)
    const seen: number[] = []
    const second = await startConsumer({
      nc,
      stream,
      durable: 'long',
      ...quiet,
      handler: async (_event, { deliveryCount }) => void seen.push(deliveryCount),
    })
    // Handed back with a plain nak: redelivered at once, not after the 30 s ack wait.
    await waitFor(() => seen.length === 1, 10_000)
    await second.stop()
    expect(seen).toEqual([2])
    expect(first.stats().failed).toBe(0)
  })

  it('upcasts old events and makes the publisher trace context active in the handler', async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    try {
      const { nc, stream, context: ctx } = await freshStream()
      const spanContext = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
      }
      await context.with(trace.setSpanContext(context.active(), spanContext), () =>
        seed(nc, [
          subjectOf(ctx, 'thing', 'a'),
          subjectOf(ctx, 'other', 'b'),
          subjectOf(ctx, 'thing', 'c'),
        ]),
      )
      const seen: Array<[unknown, number, string | undefined]> = []
      const consumer = await startConsumer({
        nc,
        stream,
        durable: 'things',
        filterSubject: `${ctx}.thing.>`,
        // Version 1 `{ i }` became version 2 `{ index }`.
        upcast: createUpcasters({ Made: { 1: (data) => ({ index: (data as { i: number }).i }) } }),
        ...quiet,
        handler: async (event) => {
          seen.push([
            event.data,
            event.schemaVersion,
            trace.getSpanContext(context.active())?.traceId,
          ])
        },
      })
      await waitFor(() => seen.length === 2)
      await consumer.stop()
      expect(seen).toEqual([
        [{ index: 0 }, 2, spanContext.traceId],
        [{ index: 2 }, 2, spanContext.traceId],
      ])
    } finally {
      context.disable()
      propagation.disable()
    }
  })

  it('keeps a long handler’s message while it reports progress, and loses a hung one’s', async () => {
    const { nc, stream, context: ctx } = await freshStream()
    await seed(nc, [subjectOf(ctx, 'thing', 'long'), subjectOf(ctx, 'thing', 'hung')])
    const ackWaitMs = 600
    const deliveries: Array<[number, number]> = []
    let hungAbortReason: unknown
    const consumer = await startConsumer({
      nc,
      stream,
      durable: 'progress',
      ackWaitMs,
      ...quiet,
      handler: async (event, { deliveryCount, progress, signal }) => {
        deliveries.push([indexOf(event), deliveryCount])
        if (indexOf(event) === 0) {
          // Works for five ack waits, reporting progress all along.
          for (let step = 0; step < 25; step++) {
            await sleep(ackWaitMs / 5)
            progress()
          }
          return
        }
        if (deliveryCount === 1) {
          // Hangs: never reports progress, never settles by itself.
          signal.addEventListener('abort', () => (hungAbortReason = signal.reason))
          await new Promise(() => undefined)
        }
      },
    })
    await waitFor(() => consumer.stats().handled === 2, 20_000)
    await consumer.stop()
    expect(deliveries).toEqual([
      [0, 1],
      [1, 1],
      [1, 2],
    ])
    expect(hungAbortReason).toBeInstanceOf(ClaimLapsedError)
    expect(consumer.stats()).toMatchObject({ handled: 2, lapsed: 1, failed: 0 })
    const info = await settledConsumer(nc, stream, 'progress')
    expect(info.num_redelivered).toBe(0)
    expect(info.num_ack_pending).toBe(0)
  })

  it('runs handlers side by side up to its concurrency', async () => {
    const { nc, stream, context: ctx } = await freshStream()
    await seed(nc, things(ctx, 6))
    let running = 0
    let most = 0
    const consumer = await startConsumer({
      nc,
      stream,
      durable: 'parallel',
      concurrency: 3,
      ...quiet,
      handler: async () => {
        most = Math.max(most, ++running)
        await sleep(150)
        running--
      },
    })
    await waitFor(() => consumer.stats().handled === 6)
    await consumer.stop()
    expect(most).toBe(3)
  })

  it('refuses unlimited or nonsensical delivery settings by name', async () => {
    const { nc, stream } = await freshStream()
    const handler = async () => undefined
    await expect(
      startConsumer({ nc, stream, durable: 'x', handler, maxDeliver: -1 }),
    ).rejects.toThrow(/maxDeliver: must be a whole number from 1 to 1000/)
    await expect(startConsumer({ nc, stream, durable: 'a.b', handler })).rejects.toThrow(
      /durable: "a.b" must be a name/,
    )
    await expect(
      startConsumer({ nc, stream, durable: 'x', handler, retryDelaysMs: [] }),
    ).rejects.toThrow(/retryDelaysMs: must not be empty/)
  })
})
