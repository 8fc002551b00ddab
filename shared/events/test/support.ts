import { connectNats, uniqueName } from '@argmax/testkit'
import type { NatsConnection } from 'nats'
import {
  createEventStore,
  encodeEnvelope,
  ensureStreams,
  newEventId,
  subjectOf,
  type RecordedEvent,
} from '../src/index.ts'

/** A fresh stream owning `<prefix>.>` for one test. */
export async function freshStream(prefix = 'evt') {
  const nc = await connectNats()
  const name = uniqueName(prefix.toUpperCase())
  const context = name.toLowerCase()
  await ensureStreams(await nc.jetstreamManager(), [
    { name, subjects: [`${context}.>`], retention: 'limits' },
  ])
  return { nc, stream: name, context }
}

export const meta = { actor: 'system:test' }

/** Polls a condition the test is driving towards; bounded so a broken build fails, not hangs. */
export function waitFor(
  condition: () => boolean,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (condition()) return resolve()
      if (Date.now() > deadline) return reject(new Error(`${what} not reached`))
      setTimeout(poll, 20)
    }
    poll()
  })
}

/** Appends one `Made` event `{ i }` per subject, in order. */
export async function seed(nc: NatsConnection, subjects: string[]) {
  const store = createEventStore({ nc })
  for (const [i, subject] of subjects.entries()) {
    await store.append(subject, [{ type: 'Made', data: { i } }], {
      expectedLastSubjectSequence: 'any',
      meta,
    })
  }
  return store
}

/** `count` events on `<context>.thing.t<i>`. */
export function things(context: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => subjectOf(context, 'thing', `t${i}`))
}

export const indexOf = (event: RecordedEvent) => (event.data as { i: number }).i

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * `count` `Made` events `{ i }` published 256 at a time (for volumes `seed` is too slow for),
 * each padded with `padBytes` characters (`{ i, pad }`) when asked.
 */
export async function publishMany(
  nc: NatsConnection,
  stream: string,
  context: string,
  count: number,
  padBytes = 0,
) {
  const pad = padBytes > 0 ? { pad: 'x'.repeat(padBytes) } : {}
  const js = nc.jetstream()
  for (let start = 0; start < count; start += 256) {
    const acks = []
    for (let i = start; i < Math.min(count, start + 256); i++) {
      const subject = subjectOf(context, 'thing', `t${i}`)
      const envelope = {
        id: newEventId(),
        type: 'Made',
        schemaVersion: 1,
        stream,
        subject,
        occurredAt: new Date().toISOString(),
        actor: meta.actor,
        correlationId: `c${i}`,
        causationId: null,
        data: { i, ...pad },
      }
      acks.push(js.publish(subject, encodeEnvelope(envelope), { msgID: envelope.id }))
    }
    await Promise.all(acks)
  }
}

/**
 * The durable's info once its acknowledgements have landed: an ack is one-way, and the server
 * applies it a moment after the client sent it. Gives up after 10 s and returns what it saw.
 */
export async function settledConsumer(nc: NatsConnection, stream: string, durable: string) {
  const jsm = await nc.jetstreamManager()
  const deadline = Date.now() + 10_000
  for (;;) {
    const info = await jsm.consumers.info(stream, durable)
    if (info.num_ack_pending === 0 || Date.now() > deadline) return info
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
