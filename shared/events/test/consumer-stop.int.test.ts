import { describe, expect, it } from 'vitest'
import {
  createEventStore,
  silentConsumerLogger,
  startBatchConsumer,
  startConsumer,
  subjectOf,
  type RunningConsumer,
} from '../src/index.ts'
import { freshStream, sleep, waitFor } from './support.ts'

/** Far longer than the test waits for the next process to get the message. */
const ACK_WAIT_MS = 60_000
const ROUNDS = 20

describe('a consumer stopping while JetStream sends it a message', () => {
  for (const kind of ['durable', 'batch'] as const) {
    it(`hands the message to the next ${kind} consumer at once, not after its ack wait`, async () => {
      const { nc, stream, context } = await freshStream()
      const store = createEventStore({ nc })
      const handled = new Set<number>()
      const start = (durable: string): Promise<RunningConsumer> => {
        const options = { nc, stream, durable, ackWaitMs: ACK_WAIT_MS, log: silentConsumerLogger }
        const record = (i: unknown) => void handled.add((i as { i: number }).i)
        return kind === 'durable'
          ? startConsumer({ ...options, handler: async (event) => record(event.data) })
          : startBatchConsumer({
              ...options,
              handleBatch: async (events) => events.forEach((event) => record(event.data)),
            })
      }
      const jsm = await nc.jetstreamManager()
      /** Until the durable has handled the earlier events and waits in an empty pull. */
      const idle = async (durable: string) => {
        for (;;) {
          const info = await jsm.consumers.info(stream, durable)
          if (info.num_pending === 0 && info.num_ack_pending === 0 && info.num_waiting > 0) return
          await sleep(10)
        }
      }
      const late: number[] = []
      // Each round: a fresh durable, idle in its pull, gets an event just as it stops (the
      // stop staggered by 0–3 ms to meet the delivery at different points), and a second
      // process on the same durable must then get that event if the first did not handle it.
      for (let round = 0; round < ROUNDS; round++) {
        const durable = `stopping-${round}`
        const first = await start(durable)
        await idle(durable)
        const appended = store.append(
          subjectOf(context, 'thing', `r${round}`),
          [{ type: 'Made', data: { i: round } }],
          { expectedLastSubjectSequence: 'any', meta: { actor: 'system:test' } },
        )
        await sleep(round % 4)
        await first.stop()
        await appended
        const second = await start(durable)
        await waitFor(() => handled.has(round), 3_000).catch(() => late.push(round))
        await second.stop()
      }
      expect(late).toEqual([])
    })
  }
})
