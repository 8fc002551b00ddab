import { describe, expect, it } from 'vitest'
import {
  listParked,
  replayParked,
  silentConsumerLogger,
  startBatchConsumer,
  type RecordedEvent,
} from '../src/index.ts'
import { freshStream, indexOf, publishMany, settledConsumer, waitFor } from './support.ts'
import { eventually } from '@argmax/testkit'

const quiet = { log: silentConsumerLogger }

describe('the batch consumer', () => {
  it('hands over batches of at most maxBatch and acknowledges them only once committed', async () => {
    const { nc, stream, context } = await freshStream()
    const total = 2_500
    await publishMany(nc, stream, context, total)
    const sizes: number[] = []
    const committed: number[] = []
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const consumer = await startBatchConsumer({
      nc,
      stream,
      durable: 'sink',
      maxBatch: 500,
      ...quiet,
      handleBatch: async (events) => {
        sizes.push(events.length)
        if (sizes.length === 1) await gate
        committed.push(...events.map(indexOf))
      },
    })
    await waitFor(() => sizes.length === 1)
    const jsm = await nc.jetstreamManager()
    const held = await jsm.consumers.info(stream, 'sink')
    // The first batch is in the handler, not committed: none of it is acknowledged.
    expect(held.ack_floor.stream_seq).toBe(0)
    expect(held.num_ack_pending).toBeGreaterThanOrEqual(sizes[0]!)
    release()
    await waitFor(() => committed.length === total)
    await consumer.stop()
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500)
    expect(sizes.length).toBeGreaterThanOrEqual(5)
    expect(new Set(committed).size).toBe(total)
    const info = await settledConsumer(nc, stream, 'sink')
    expect(info.num_ack_pending).toBe(0)
    expect(info.ack_floor.stream_seq).toBe(total)
    expect(consumer.stats()).toMatchObject({ handled: total, failed: 0, parked: 0 })
  })

  it('makes its durable again when it goes away under it, and carries on', async () => {
    const { nc, stream, context } = await freshStream()
    await publishMany(nc, stream, context, 5)
    const sequences = new Set<number>()
    const consumer = await startBatchConsumer({
      nc,
      stream,
      durable: 'remade',
      maxBatch: 100,
      ...quiet,
      handleBatch: async (events) => {
        for (const event of events) sequences.add(event.sequence)
      },
    })
    await waitFor(() => sequences.size === 5)
    const jsm = await nc.jetstreamManager()
    await jsm.consumers.delete(stream, 'remade')
    await publishMany(nc, stream, context, 5)
    await waitFor(() => sequences.size === 10, 20_000, 'the messages published after the delete')
    await consumer.stop()
  })

  it('isolates a poison message: the rest is committed once, it is parked, and replays', async () => {
    const { nc, stream, context } = await freshStream()
    await publishMany(nc, stream, context, 200)
    await nc
      .jetstream()
      .publish(`${context}.thing.garbage`, new TextEncoder().encode('{"not":"an envelope"}'))
    let poisoned = true
    const committed = new Map<number, number>()
    const replayed: boolean[] = []
    const hooked: RecordedEvent[] = []
    const consumer = await startBatchConsumer({
      nc,
      stream,
      durable: 'isolating',
      maxBatch: 64,
      maxDeliver: 2,
      retryDelaysMs: [20],
      ...quiet,
      handleBatch: async (events, { replay }) => {
        // All or nothing, like one INSERT: a batch holding the poison commits nothing.
        if (poisoned && events.some((event) => indexOf(event) === 77)) {
          throw new Error('row 77 does not fit the table')
        }
        if (replay) replayed.push(replay)
        for (const event of events) {
          committed.set(indexOf(event), (committed.get(indexOf(event)) ?? 0) + 1)
        }
      },
      onParked: async (event) => void hooked.push(event),
    })
    const parked = await eventually(async () => {
      const entries = await listParked(nc, { stream })
      return entries.length === 2 ? entries.sort((a, b) => a.sequence - b.sequence) : undefined
    })
    await waitFor(() => committed.size === 199)
    expect([...committed.values()].every((times) => times === 1)).toBe(true)
    expect(committed.has(77)).toBe(false)
    expect(parked.map((entry) => [entry.sequence, entry.reason, entry.deliveries])).toEqual([
      [78, 'handler_failed', 2],
      [201, 'undecodable', 1],
    ])
    expect(parked[0]!.error.message).toBe('row 77 does not fit the table')
    expect(hooked.map(indexOf)).toEqual([77])

    poisoned = false
    await replayParked(nc, parked[0]!.id)
    await waitFor(() => committed.get(77) === 1)
    expect(replayed).toEqual([true])
    await eventually(async () =>
      (await listParked(nc, { stream })).length === 1 ? true : undefined,
    )
    await consumer.stop()
    const info = await settledConsumer(nc, stream, 'isolating')
    expect(info.num_ack_pending).toBe(0)
  })

  it("pulls by bytes when asked: messages near NATS's payload limit come whole, each once", async () => {
    const { nc, stream, context } = await freshStream()
    const total = 24
    await publishMany(nc, stream, context, total, 900_000)
    const sizes: number[] = []
    const committed: number[] = []
    const consumer = await startBatchConsumer({
      nc,
      stream,
      durable: 'sink',
      maxBatch: 1_000,
      maxPullBytes: 8 << 20,
      ...quiet,
      handleBatch: async (events) => {
        sizes.push(events.length)
        committed.push(...events.map(indexOf))
      },
    })
    await waitFor(() => committed.length === total)
    await consumer.stop()
    expect(committed.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i))
    const info = await settledConsumer(nc, stream, 'sink')
    expect(info.ack_floor.stream_seq).toBe(total)
    expect(consumer.stats()).toMatchObject({ handled: total, failed: 0, parked: 0 })
  })

  it('refuses a byte limit a whole message might not fit in', async () => {
    const { nc, stream } = await freshStream()
    await expect(
      startBatchConsumer({
        nc,
        stream,
        durable: 'sink',
        maxPullBytes: 4 << 20,
        ...quiet,
        handleBatch: async () => undefined,
      }),
    ).rejects.toThrow(/maxPullBytes.*8 MiB/)
  })
})
