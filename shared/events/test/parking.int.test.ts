import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { NotFoundError } from '@argmax/errors'
import { eventually, launchArgs, stackEndpoints } from '@argmax/testkit'
import type { NatsConnection } from 'nats'
import { describe, expect, it } from 'vitest'
import {
  discardParked,
  listParked,
  replayParked,
  silentConsumerLogger,
  startConsumer,
  subjectOf,
  type ConsumerOptions,
  type ParkedMessage,
  type RecordedEvent,
} from '../src/index.ts'
import { freshStream, indexOf, seed, settledConsumer, things, waitFor } from './support.ts'

const fixture = fileURLToPath(new URL('./fixtures/hold-message.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const quiet = { log: silentConsumerLogger }

/** A consumer process that takes the next message and holds it until killed. */
async function holdInChildProcess(args: {
  stream: string
  durable: string
  ackWaitMs: number
  maxDeliver: number
}): Promise<{ kill(): Promise<void>; held: string }> {
  const child = spawn(
    process.execPath,
    [
      ...launchArgs(fixture),
      stackEndpoints().natsUrl,
      args.stream,
      args.durable,
      String(args.ackWaitMs),
      String(args.maxDeliver),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = new Promise((resolve) => child.once('exit', resolve))
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  try {
    await waitFor(() => output.includes('holding'), 30_000, 'the child process holding a message')
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  return {
    held: output.split('\n').find((line) => line.startsWith('holding'))!,
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
  }
}

async function parkedOf(nc: NatsConnection, stream: string, count: number) {
  return eventually(
    async () => {
      const entries = await listParked(nc, { stream })
      return entries.length >= count ? entries : undefined
    },
    20_000,
    `${count} parked message(s) of ${stream}`,
  )
}

describe('parking', () => {
  it('parks a message that keeps failing after max deliver, with its error, and goes on', async () => {
    const { nc, stream, context } = await freshStream()
    await seed(nc, things(context, 3))
    const deliveries: number[] = []
    const hooked: Array<[RecordedEvent, ParkedMessage]> = []
    const consumer = await startConsumer({
      nc,
      stream,
      durable: 'fails',
      maxDeliver: 3,
      retryDelaysMs: [20],
      ...quiet,
      handler: async (event, { deliveryCount }) => {
        if (indexOf(event) !== 1) return
        deliveries.push(deliveryCount)
        throw new Error(`boom ${indexOf(event)}`)
      },
      onParked: async (event, parked) => void hooked.push([event, parked]),
    })
    const [parked] = await parkedOf(nc, stream, 1)
    await waitFor(() => consumer.stats().handled === 2 && hooked.length === 1)
    await consumer.stop()

    expect(deliveries).toEqual([1, 2, 3])
    expect(parked).toMatchObject({
      id: `${stream}.fails.2`,
      stream,
      durable: 'fails',
      sequence: 2,
      subject: subjectOf(context, 'thing', 't1'),
      eventType: 'Made',
      reason: 'handler_failed',
      deliveries: 3,
      status: 'parked',
      replays: 0,
      error: { message: 'boom 1' },
    })
    expect(parked!.error.stack).toContain('parking.int.test.ts')
    expect(hooked[0]![0].data).toEqual({ i: 1 })
    expect(hooked[0]![1].id).toBe(parked!.id)
    expect(consumer.stats()).toMatchObject({ handled: 2, failed: 3, parked: 1 })
    // Terminated once parked: nothing waits for an ack or a redelivery.
    const info = await settledConsumer(nc, stream, 'fails')
    expect(info.num_ack_pending).toBe(0)
    expect(info.num_pending).toBe(0)
  })

  it('parks what is not an event envelope at once, without the handler seeing it', async () => {
    const { nc, stream, context } = await freshStream()
    const js = nc.jetstream()
    await js.publish(`${context}.thing.garbage`, new TextEncoder().encode('not json {'))
    await js.publish(`${context}.thing.shapeless`, new TextEncoder().encode('{"hello":1}'))
    await seed(nc, [subjectOf(context, 'thing', 'fine')])
    const seen: unknown[] = []
    const consumer = await startConsumer({
      nc,
      stream,
      durable: 'decodes',
      ...quiet,
      handler: async (event) => void seen.push(event.data),
      onParked: async () => {
        throw new Error('never called for an undecodable message')
      },
    })
    const parked = await parkedOf(nc, stream, 2)
    await waitFor(() => seen.length === 1)
    await consumer.stop()
    expect(seen).toEqual([{ i: 0 }])
    expect(
      parked.map((entry) => [entry.sequence, entry.reason, entry.deliveries, entry.eventType]),
    ).toEqual([
      [1, 'undecodable', 1, null],
      [2, 'undecodable', 1, null],
    ])
    expect(parked[0]!.error.message).toMatch(/JSON/)
    expect(parked[1]!.error.message).toMatch(/not an event envelope/)
  })

  it('redelivers the message of a consumer killed mid-message, and another consumer finishes it', async () => {
    const { nc, stream, context } = await freshStream()
    await seed(nc, [subjectOf(context, 'thing', 'held')])
    const child = await holdInChildProcess({
      stream,
      durable: 'killed',
      ackWaitMs: 1_000,
      maxDeliver: 5,
    })
    expect(child.held).toBe('holding 1 1')
    await child.kill()

    const seen: Array<[number, number]> = []
    const consumer = await startConsumer({
      nc,
      stream,
      durable: 'killed',
      ackWaitMs: 1_000,
      maxDeliver: 5,
      ...quiet,
      handler: async (event, { deliveryCount }) => void seen.push([event.sequence, deliveryCount]),
    })
    await waitFor(() => seen.length === 1, 20_000)
    await consumer.stop()
    expect(seen).toEqual([[1, 2]])
    expect(await listParked(nc, { stream })).toEqual([])
    expect((await settledConsumer(nc, stream, 'killed')).num_ack_pending).toBe(0)
  })

  it('parks a message whose last delivery died with its process, from JetStream’s advisory', async () => {
    const { nc, stream, context } = await freshStream()
    await seed(nc, [subjectOf(context, 'thing', 'last')])
    const child = await holdInChildProcess({
      stream,
      durable: 'lastgasp',
      ackWaitMs: 1_000,
      maxDeliver: 1,
    })
    await child.kill()

    const hooked: RecordedEvent[] = []
    const handled: number[] = []
    const consumer = await startConsumer({
      nc,
      stream,
      durable: 'lastgasp',
      ackWaitMs: 1_000,
      maxDeliver: 1,
      ...quiet,
      handler: async (event) => void handled.push(event.sequence),
      onParked: async (event) => void hooked.push(event),
    })
    const [parked] = await parkedOf(nc, stream, 1)
    await waitFor(() => hooked.length === 1)
    await consumer.stop()
    expect(handled).toEqual([])
    expect(parked).toMatchObject({
      sequence: 1,
      reason: 'delivery_limit',
      deliveries: 1,
      eventType: 'Made',
    })
    expect(parked!.error.message).toMatch(/without the handler failing/)
    expect(hooked.map((event) => event.sequence)).toEqual([1])
  })

  it('replays a parked message through its consumer, appending nothing; discards another', async () => {
    const { nc, stream, context } = await freshStream()
    await seed(nc, things(context, 3))
    const jsm = await nc.jetstreamManager()
    const lastSequence = async () => (await jsm.streams.info(stream)).state.last_seq
    let broken = true
    const replays: Array<[number, boolean]> = []
    const options: ConsumerOptions = {
      nc,
      stream,
      durable: 'replays',
      maxDeliver: 1,
      ...quiet,
      handler: async (event, { replay }) => {
        if (indexOf(event) === 0) return
        if (broken) throw new Error(`still broken at ${indexOf(event)}`)
        replays.push([indexOf(event), replay])
      },
    }
    let consumer = await startConsumer(options)
    const [first, second] = await parkedOf(nc, stream, 2)
    const before = await lastSequence()

    // Still broken: the replay fails and the entry is parked again, with the new error.
    const requested = await replayParked(nc, first!.id)
    expect(requested.status).toBe('replay_requested')
    const reparked = await eventually(async () => {
      const entry = (await listParked(nc, { stream })).find((e) => e.id === first!.id)
      return entry?.replays === 1 ? entry : undefined
    })
    expect(reparked).toMatchObject({ status: 'parked', reason: 'handler_failed', replays: 1 })
    expect(reparked.error.message).toBe('still broken at 1')

    // Fixed, and with no consumer running: the request waits for the next one to start.
    broken = false
    await consumer.stop()
    await replayParked(nc, first!.id)
    const waiting = (await listParked(nc, { stream })).find((entry) => entry.id === first!.id)
    expect(waiting?.status).toBe('replay_requested')
    consumer = await startConsumer(options)
    await waitFor(() => replays.length === 1)
    await eventually(async () =>
      (await listParked(nc, { stream })).length === 1 ? true : undefined,
    )
    expect(replays).toEqual([[1, true]])
    expect(consumer.stats().replayed).toBe(1)

    const discarded = await discardParked(nc, second!.id)
    expect(discarded.sequence).toBe(second!.sequence)
    expect(await listParked(nc, { stream })).toEqual([])
    await consumer.stop()
    // The original events were handled again from where they are: nothing was appended.
    expect(await lastSequence()).toBe(before)
    await expect(discardParked(nc, second!.id)).rejects.toBeInstanceOf(NotFoundError)
    // A request that is not ours is dropped from the queue, not retried.
    await nc
      .jetstream()
      .publish(`argmax.parked.replay.${stream}.replays`, new TextEncoder().encode('?'))
    consumer = await startConsumer(options)
    await eventually(async () => {
      const info = await jsm.consumers.info('PARKED_REQUESTS', `${stream}--replays--replays`)
      return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined
    })
    await consumer.stop()
    await expect(replayParked(nc, `${stream}.replays.999`)).rejects.toBeInstanceOf(NotFoundError)
  })

  it('makes an attendant whose durable went away again, and replays through it', async () => {
    const { nc, stream, context } = await freshStream()
    await seed(nc, things(context, 2))
    let broken = true
    const replayed: number[] = []
    const consumer = await startConsumer({
      nc,
      stream,
      durable: 'mended',
      maxDeliver: 1,
      ...quiet,
      handler: async (event, { replay }) => {
        if (indexOf(event) === 0) return
        if (broken) throw new Error('broken')
        if (replay) replayed.push(indexOf(event))
      },
    })
    const [parked] = await parkedOf(nc, stream, 1)
    // Gone from under the running consumer (an operator, a restored server): its pull fails,
    // and the loop makes the durable again before pulling on.
    const jsm = await nc.jetstreamManager()
    await jsm.consumers.delete('PARKED_REQUESTS', `${stream}--mended--replays`)
    broken = false
    await replayParked(nc, parked!.id)
    await waitFor(() => replayed.length === 1, 20_000, 'the replay')
    expect(replayed).toEqual([1])
    await eventually(async () =>
      (await listParked(nc, { stream })).length === 0 ? true : undefined,
    )
    await consumer.stop()
  })
})
