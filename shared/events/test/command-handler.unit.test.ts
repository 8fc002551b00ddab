import { ConcurrencyError } from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import {
  handleCommand,
  subjectOf,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '../src/index.ts'

/**
 * An in-memory EventStore with the same optimistic-concurrency contract as the JetStream one,
 * plus a hook that lets a test slip a "concurrent" write in before a given append.
 */
function memoryStore(beforeAppend: (store: EventStore, attempt: number) => Promise<void>) {
  const log: RecordedEvent[] = []
  let appends = 0
  const lastOf = (subject: string) => log.filter((e) => e.subject === subject).at(-1)?.sequence ?? 0
  const store: EventStore = {
    async load(subject) {
      return log.filter((e) => e.subject === subject)
    },
    async lastSequenceOf(subject) {
      return lastOf(subject)
    },
    async append(subject, events: NewEvent[], { expectedLastSubjectSequence, meta }) {
      await beforeAppend(store, appends++)
      if (
        expectedLastSubjectSequence !== 'any' &&
        expectedLastSubjectSequence !== lastOf(subject)
      ) {
        throw new ConcurrencyError(subject, expectedLastSubjectSequence)
      }
      const recorded: RecordedEvent[] = []
      for (const event of events) {
        const sequence = log.length + 1
        log.push({
          id: event.id ?? `e${sequence}`,
          type: event.type,
          schemaVersion: event.schemaVersion ?? 1,
          stream: 'MEM',
          subject,
          occurredAt: '2025-01-01T00:00:00.000Z',
          actor: meta.actor,
          correlationId: 'c',
          causationId: null,
          data: event.data,
          sequence,
        })
        recorded.push(log.at(-1)!)
      }
      return { lastSequence: recorded.at(-1)?.sequence ?? lastOf(subject), events: recorded }
    },
  }
  return { store, appendCalls: () => appends }
}

const subject = subjectOf('test', 'counter', 'c1')
const counter = {
  subject,
  initialState: 0,
  evolve: (total: number, event: RecordedEvent) => total + (event.data as { by: number }).by,
  decide: (by: number): NewEvent[] => (by === 0 ? [] : [{ type: 'Incremented', data: { by } }]),
  meta: { actor: 'user:test' },
}
const noInterference = async () => undefined

describe('handleCommand', () => {
  it('appends the decided events and returns the evolved state', async () => {
    const { store } = memoryStore(noInterference)
    const result = await handleCommand({ ...counter, store, command: 3 })
    expect(result).toMatchObject({ lastSequence: 1, state: 3 })
    expect(result.events.map((e) => e.type)).toEqual(['Incremented'])
  })

  it('appends nothing when the decider decides nothing', async () => {
    const { store, appendCalls } = memoryStore(noInterference)
    await handleCommand({ ...counter, store, command: 2 })
    const result = await handleCommand({ ...counter, store, command: 0 })
    expect(result).toEqual({ events: [], lastSequence: 1, state: 2 })
    expect(appendCalls()).toBe(1)
  })

  it('reloads and decides again after a conflict', async () => {
    // Another writer adds 10 just before our first append.
    const { store } = memoryStore(async (s, attempt) => {
      if (attempt === 0) {
        await s.append(subject, [{ type: 'Incremented', data: { by: 10 } }], {
          expectedLastSubjectSequence: 'any',
          meta: counter.meta,
        })
      }
    })
    const result = await handleCommand({ ...counter, store, command: 1 })
    expect(result.state).toBe(11)
    expect((await store.load(subject)).map((e) => (e.data as { by: number }).by)).toEqual([10, 1])
  })

  it('rethrows the conflict once maxRetries is spent', async () => {
    let interfering = 0
    const { store } = memoryStore(async (s) => {
      // Every append of ours is preceded by a competing one (itself not interfered with).
      if (interfering++ % 2 === 0) {
        await s.append(subject, [{ type: 'Incremented', data: { by: 1 } }], {
          expectedLastSubjectSequence: 'any',
          meta: counter.meta,
        })
      }
    })
    await expect(
      handleCommand({ ...counter, store, command: 1, maxRetries: 3 }),
    ).rejects.toBeInstanceOf(ConcurrencyError)
    // 1 attempt + 3 retries, each preceded by one competing write.
    expect(await store.lastSequenceOf(subject)).toBe(4)
  })

  it('does not retry other errors', async () => {
    const { store, appendCalls } = memoryStore(async () => {
      throw new TypeError('broken connection')
    })
    await expect(handleCommand({ ...counter, store, command: 1 })).rejects.toThrow(TypeError)
    expect(appendCalls()).toBe(1)
  })
})

describe('subjectOf', () => {
  it('joins context, aggregate and id', () => {
    expect(subjectOf('training', 'run', '0190abc')).toBe('training.run.0190abc')
  })
  it('refuses tokens that would change the subject hierarchy', () => {
    expect(() => subjectOf('training', 'run', 'a.b')).toThrow(/cannot be a subject token/)
    expect(() => subjectOf('training', 'run', '>')).toThrow(/cannot be a subject token/)
    expect(() => subjectOf('training', '', 'x')).toThrow(/cannot be a subject token/)
  })
})
