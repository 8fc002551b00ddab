import { describe, expect, it } from 'vitest'
import {
  createEventStore,
  ensureStreams,
  subjectOf,
  subscribe,
  type RecordedEvent,
} from '../src/index.ts'
import { freshStream } from './support.ts'

const meta = { actor: 'system:test' }

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

describe('durable subscriptions', () => {
  it('delivers every event, redelivers after a handler failure, and resumes after stop', async () => {
    const { nc, stream, context } = await freshStream()
    const store = createEventStore({ nc })
    for (let i = 0; i < 5; i++) {
      await store.append(subjectOf(context, 'thing', `t${i}`), [{ type: 'Made', data: { i } }], {
        expectedLastSubjectSequence: 0,
        meta,
      })
    }
    const seen: number[] = []
    let failedOnce = false
    const handler = async (event: RecordedEvent, delivery: { deliveryCount: number }) => {
      const { i } = event.data as { i: number }
      if (i === 2 && !failedOnce) {
        failedOnce = true
        throw new Error('transient')
      }
      if (i === 2) expect(delivery.deliveryCount).toBe(2)
      seen.push(i)
    }
    const first = await subscribe({ nc, stream, durable: 'reader', handler, nakDelayMs: 50 })
    await waitFor(() => seen.length === 5)
    await first.stop()
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4])

    await store.append(subjectOf(context, 'thing', 'late'), [{ type: 'Made', data: { i: 5 } }], {
      expectedLastSubjectSequence: 0,
      meta,
    })
    const second = await subscribe({ nc, stream, durable: 'reader', handler, nakDelayMs: 50 })
    await waitFor(() => seen.length === 6)
    await second.stop()
    expect(seen.at(-1)).toBe(5)
  })
})

describe('ensureStreams', () => {
  it('is idempotent and applies a changed spec', async () => {
    const { nc, stream, context } = await freshStream()
    const jsm = await nc.jetstreamManager()
    const spec = { name: stream, subjects: [`${context}.>`], retention: 'limits' as const }
    await ensureStreams(jsm, [spec])
    await ensureStreams(jsm, [{ ...spec, maxAge: 60_000 }])
    const info = await jsm.streams.info(stream)
    expect(info.config.max_age).toBe(60_000 * 1_000_000)
    expect(info.config.subjects).toEqual([`${context}.>`])
  })
})
