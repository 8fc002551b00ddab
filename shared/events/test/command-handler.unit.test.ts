import { ConcurrencyError, IllegalStateError, NotFoundError, toProblem } from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import {
  handleCommand,
  loadAggregate,
  subjectOf,
  type AggregateDecider,
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
          correlationId: meta.correlationId ?? 'c',
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

type CounterEvent = { type: 'Incremented'; data: { by: number } } | { type: 'Reset'; data: object }
type CounterCommand = { type: 'Increment'; by: number } | { type: 'Reset' }

/** A counter that refuses to go above 100, the smallest aggregate with a rule to decide on. */
const counter: AggregateDecider<CounterCommand, CounterEvent, number> = {
  initialState: 0,
  eventTypes: ['Incremented', 'Reset'],
  // `event` is the domain event: its data is typed without a cast.
  evolve: (total, event) => (event.type === 'Incremented' ? total + event.data.by : 0),
  decide: (command, total) => {
    if (command.type === 'Reset') return total === 0 ? [] : [{ type: 'Reset', data: {} }]
    if (total + command.by > 100) throw new IllegalStateError('a counter stops at 100')
    return command.by === 0 ? [] : [{ type: 'Incremented', data: { by: command.by } }]
  },
}
const alice = { subject: 'alice' }
const increment = (by: number): CounterCommand => ({ type: 'Increment', by })
const noInterference = async () => undefined
/** Another writer adds `by` to the counter. */
const competingWrite = (store: EventStore, by = 1) =>
  store.append(subject, [{ type: 'Incremented', data: { by } }], {
    expectedLastSubjectSequence: 'any',
    meta: { actor: 'system:other' },
  })

describe('handleCommand', () => {
  it('appends the decided events and returns the evolved state, position and events', async () => {
    const { store } = memoryStore(noInterference)
    const outcome = await handleCommand(store, counter, subject, increment(3), { actor: alice })
    expect(outcome).toMatchObject({ state: 3, position: 1, written: 1 })
    expect(outcome.events.map((e) => [e.type, e.data, e.actor])).toEqual([
      ['Incremented', { by: 3 }, 'alice'],
    ])
  })

  it('appends nothing when the decider decides nothing', async () => {
    const { store, appendCalls } = memoryStore(noInterference)
    await handleCommand(store, counter, subject, increment(2), { actor: alice })
    const outcome = await handleCommand(store, counter, subject, increment(0), { actor: alice })
    expect(outcome).toEqual({ state: 2, position: 1, events: [], written: 0 })
    expect(appendCalls()).toBe(1)
  })

  it('records a system actor and the correlation id on every event', async () => {
    const { store } = memoryStore(noInterference)
    const outcome = await handleCommand(store, counter, subject, increment(1), {
      actor: 'system:purge',
      correlationId: 'req-7',
    })
    expect(outcome.events[0]).toMatchObject({ actor: 'system:purge', correlationId: 'req-7' })
  })

  it('reloads and decides again after a conflict', async () => {
    const { store } = memoryStore(async (s, attempt) => {
      if (attempt === 0) await competingWrite(s, 10)
    })
    const outcome = await handleCommand(store, counter, subject, increment(1), { actor: alice })
    expect(outcome.state).toBe(11)
    expect((await store.load(subject)).map((e) => (e.data as { by: number }).by)).toEqual([10, 1])
  })

  it('decides on the state it reloaded: a rule broken by the competing write refuses', async () => {
    const { store } = memoryStore(async (s, attempt) => {
      if (attempt === 0) await competingWrite(s, 95)
    })
    await expect(
      handleCommand(store, counter, subject, increment(10), { actor: alice }),
    ).rejects.toThrow(IllegalStateError)
    expect(await store.lastSequenceOf(subject)).toBe(1)
  })

  it('answers 409 "being changed concurrently" once its retries are spent', async () => {
    let interfering = 0
    const { store } = memoryStore(async (s) => {
      // Every append of ours is preceded by a competing one (itself not interfered with).
      if (interfering++ % 2 === 0) await competingWrite(s)
    })
    const failure = await handleCommand(store, counter, subject, increment(1), {
      actor: alice,
      maxRetries: 3,
    }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ConcurrencyError)
    expect((failure as Error).message).toBe(
      `${subject} is being changed concurrently: gave up after 4 attempts, nothing was ` +
        'written; the request may be retried',
    )
    expect(toProblem(failure)).toMatchObject({
      status: 409,
      title: 'Conflict',
      type: 'https://argmax.dev/problems/concurrency',
    })
    // 1 attempt + 3 retries, each preceded by one competing write; none of ours written.
    expect(await store.lastSequenceOf(subject)).toBe(4)
    expect((await store.load(subject)).every((e) => e.actor === 'system:other')).toBe(true)
  })

  it('does not retry other errors', async () => {
    const { store, appendCalls } = memoryStore(async () => {
      throw new Error('broken connection')
    })
    await expect(
      handleCommand(store, counter, subject, increment(1), { actor: alice }),
    ).rejects.toThrow('broken connection')
    expect(appendCalls()).toBe(1)
  })

  it('runs the guard on the state it decides on, before deciding, and writes nothing if it throws', async () => {
    const { store, appendCalls } = memoryStore(noInterference)
    await handleCommand(store, counter, subject, increment(5), { actor: alice })
    const seen: number[] = []
    await expect(
      handleCommand(
        store,
        counter,
        subject,
        { type: 'Reset' },
        {
          actor: { subject: 'bob' },
          guard: (state) => {
            seen.push(state)
            throw new NotFoundError('counter', 'c1')
          },
        },
      ),
    ).rejects.toThrow(NotFoundError)
    expect(seen).toEqual([5])
    expect(appendCalls()).toBe(1)
  })
})

describe('loadAggregate', () => {
  it('folds the subject into state and returns its last sequence', async () => {
    const { store } = memoryStore(noInterference)
    expect(await loadAggregate(store, counter, subject)).toEqual({ state: 0, position: 0 })
    await handleCommand(store, counter, subject, increment(4), { actor: alice })
    await handleCommand(store, counter, subject, increment(2), { actor: alice })
    expect(await loadAggregate(store, counter, subject)).toEqual({ state: 6, position: 2 })
  })

  it('refuses an event type the aggregate does not declare, naming it', async () => {
    const { store } = memoryStore(noInterference)
    await store.append(subject, [{ type: 'Doubled', data: {} }], {
      expectedLastSubjectSequence: 0,
      meta: { actor: 'system:other' },
    })
    await expect(loadAggregate(store, counter, subject)).rejects.toThrow(
      `${subject} holds event Doubled at sequence 1, which its aggregate does not declare`,
    )
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
