import {
  createEventStore,
  ensureStreams,
  listParked,
  silentConsumerLogger,
  startConsumer,
  type ParkedMessage,
} from '@argmax/events'
import { connectNats, stackEndpoints, uniqueName } from '@argmax/testkit'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createProgram } from '../src/program.ts'

/** Runs `argmax …` in this process and returns what it printed. */
async function argmax(...args: string[]): Promise<string> {
  const printed: string[] = []
  const spy = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    printed.push(parts.join(' '))
  })
  try {
    await createProgram()
      .exitOverride()
      .parseAsync(['node', 'argmax', ...args, '--nats-url', stackEndpoints().natsUrl])
    return printed.join('\n')
  } finally {
    spy.mockRestore()
  }
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('argmax parked', () => {
  afterEach(() => vi.restoreAllMocks())

  it('lists, replays (one and --all) and discards what a consumer parked', async () => {
    const nc = await connectNats()
    const stream = uniqueName('PARKCLI')
    const root = stream.toLowerCase()
    await ensureStreams(await nc.jetstreamManager(), [
      { name: stream, subjects: [`${root}.>`], retention: 'limits' },
    ])
    const store = createEventStore({ nc })
    for (const n of [1, 2, 3]) {
      await store.append(`${root}.order.o${n}`, [{ type: 'OrderPlaced', data: { n } }], {
        expectedLastSubjectSequence: 0,
        meta: { actor: 'system:test' },
      })
    }
    let failing = true
    const handled: number[] = []
    const consumer = await startConsumer({
      nc,
      stream,
      durable: 'orders',
      maxDeliver: 1,
      log: silentConsumerLogger,
      handler: async (event) => {
        const { n } = event.data as { n: number }
        if (failing) throw new Error(`cannot handle order ${n}`)
        handled.push(n)
      },
    })
    try {
      await until(async () => (await listParked(nc, { stream })).length === 3, '3 parked')

      const listed = JSON.parse(
        await argmax('parked', 'list', '--json', '--stream', stream),
      ) as ParkedMessage[]
      expect(listed.map((entry) => entry.id).sort()).toEqual([
        `${stream}.orders.1`,
        `${stream}.orders.2`,
        `${stream}.orders.3`,
      ])
      expect(listed[0]).toMatchObject({ eventType: 'OrderPlaced', reason: 'handler_failed' })
      const human = await argmax('parked', 'list', '--stream', stream)
      expect(human.split('\n')[0]).toMatch(/^ID\s+EVENT\s+REASON\s+DELIVERIES/)
      expect(human).toContain(`${stream}.orders.2  OrderPlaced  handler_failed  1`)
      expect(human).toContain('cannot handle order 2')

      failing = false
      expect(await argmax('parked', 'replay', `${stream}.orders.1`)).toContain(
        `replay requested: ${stream}.orders.1 (OrderPlaced)`,
      )
      await until(async () => handled.includes(1), 'order 1 replayed')
      expect(await argmax('parked', 'discard', `${stream}.orders.2`)).toBe(
        `discarded ${stream}.orders.2`,
      )
      expect(await argmax('parked', 'replay', '--all', '--stream', stream)).toContain(
        `replay requested: ${stream}.orders.3`,
      )
      await until(async () => handled.includes(3), 'order 3 replayed')
      await until(async () => (await listParked(nc, { stream })).length === 0, 'nothing parked')
      expect(await argmax('parked', 'list', '--stream', stream)).toBe('nothing is parked')
      expect(handled.sort()).toEqual([1, 3])
    } finally {
      await consumer.stop()
    }
  })

  it('says what it needs, and names an id it does not know', async () => {
    await expect(argmax('parked', 'replay')).rejects.toThrow(
      /name one parked message id, or pass --all/,
    )
    await expect(argmax('parked', 'discard', 'NOSUCH.consumer.1')).rejects.toThrow(
      /parked message NOSUCH.consumer.1 not found/,
    )
  })
})
