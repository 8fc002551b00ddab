import { context, propagation, trace, TraceFlags } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { describe, expect, it } from 'vitest'
import {
  createEventStore,
  subjectOf,
  subscribe,
  type DeliveryInfo,
  type RecordedEvent,
} from '../src/index.ts'
import { freshStream } from './support.ts'

const meta = { actor: 'system:test' }

/** Polls a condition the test is driving towards; bounded so a broken build fails, not hangs. */
function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (condition()) return resolve()
      if (Date.now() > deadline) return reject(new Error('condition not reached'))
      setTimeout(poll, 20)
    }
    poll()
  })
}

async function seed(nc: Awaited<ReturnType<typeof freshStream>>['nc'], subjects: string[]) {
  const store = createEventStore({ nc })
  for (const [i, subject] of subjects.entries()) {
    await store.append(subject, [{ type: 'Made', data: { i } }], {
      expectedLastSubjectSequence: 'any',
      meta,
    })
  }
  return store
}

const indexOf = (event: RecordedEvent) => (event.data as { i: number }).i

describe('durable subscriptions', () => {
  it('delivers every event, redelivers after a handler failure, and resumes after stop', async () => {
    const { nc, stream, context: ctx } = await freshStream()
    const store = await seed(
      nc,
      Array.from({ length: 5 }, (_, i) => subjectOf(ctx, 'thing', `t${i}`)),
    )
    const handled: number[] = []
    const deliveries: Array<[number, number]> = []
    let failedOnce = false
    const handler = async (event: RecordedEvent, delivery: DeliveryInfo) => {
      deliveries.push([indexOf(event), delivery.deliveryCount])
      if (indexOf(event) === 2 && !failedOnce) {
        failedOnce = true
        throw new Error('transient')
      }
      handled.push(indexOf(event))
    }
    const errors: unknown[] = []
    const first = await subscribe({
      nc,
      stream,
      durable: 'reader',
      handler,
      nakDelayMs: 50,
      onError: (error) => errors.push(error),
    })
    await waitFor(() => handled.length === 5)
    await first.stop()
    expect([...handled].sort()).toEqual([0, 1, 2, 3, 4])
    expect(deliveries.filter(([i]) => i === 2).map(([, count]) => count)).toEqual([1, 2])
    expect(errors).toHaveLength(1)

    await store.append(subjectOf(ctx, 'thing', 'late'), [{ type: 'Made', data: { i: 5 } }], {
      expectedLastSubjectSequence: 0,
      meta,
    })
    const second = await subscribe({ nc, stream, durable: 'reader', handler, nakDelayMs: 50 })
    await waitFor(() => handled.length === 6)
    await second.stop()
    // The durable resumed after what it had acknowledged: only the new event came.
    expect(handled.at(-1)).toBe(5)
    const info = await (await nc.jetstreamManager()).consumers.info(stream, 'reader')
    expect(info.num_ack_pending).toBe(0)
    expect(info.num_pending).toBe(0)
  })

  it('stop() waits for the handler in progress and acknowledges its event', async () => {
    const { nc, stream, context: ctx } = await freshStream()
    await seed(nc, [subjectOf(ctx, 'thing', 'slow')])
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    let started = false
    let finished = false
    const subscription = await subscribe({
      nc,
      stream,
      durable: 'slow',
      handler: async () => {
        started = true
        await gate
        finished = true
      },
    })
    await waitFor(() => started)
    let stopped = false
    const stopping = subscription.stop().then(() => (stopped = true))
    // A server round trip gives stop() every chance to resolve early if it were going to.
    await nc.flush()
    expect(stopped).toBe(false)
    release()
    await stopping
    expect(finished).toBe(true)
    const info = await (await nc.jetstreamManager()).consumers.info(stream, 'slow')
    expect(info.num_ack_pending).toBe(0)
    expect(info.delivered.stream_seq).toBe(1)
  })

  it('filters on a subject and makes the publisher trace context active in the handler', async () => {
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
      const seen: Array<[number, string | undefined]> = []
      const subscription = await subscribe({
        nc,
        stream,
        durable: 'things',
        filterSubject: `${ctx}.thing.>`,
        handler: async (event) => {
          seen.push([indexOf(event), trace.getSpanContext(context.active())?.traceId])
        },
      })
      await waitFor(() => seen.length === 2)
      await subscription.stop()
      expect(seen).toEqual([
        [0, spanContext.traceId],
        [2, spanContext.traceId],
      ])
    } finally {
      context.disable()
      propagation.disable()
    }
  })
})
