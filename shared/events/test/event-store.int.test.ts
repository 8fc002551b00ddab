import { ConcurrencyError } from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import {
  createEventStore,
  createUpcasters,
  handleCommand,
  type AggregateDecider,
  subjectOf,
} from '../src/index.ts'
import { freshStream } from './support.ts'

const meta = { actor: 'user:alice' }

describe('event store', () => {
  it('appends with an expected sequence and rejects a stale one without writing', async () => {
    const { nc, context } = await freshStream()
    const store = createEventStore({ nc })
    const subject = subjectOf(context, 'thing', 'a')
    const first = await store.append(subject, [{ type: 'Created', data: { n: 1 } }], {
      expectedLastSubjectSequence: 0,
      meta,
    })
    expect(first.lastSequence).toBe(1)
    await expect(
      store.append(subject, [{ type: 'Renamed', data: { n: 2 } }], {
        expectedLastSubjectSequence: 0,
        meta,
      }),
    ).rejects.toBeInstanceOf(ConcurrencyError)
    const events = await store.load(subject)
    expect(events.map((e) => e.type)).toEqual(['Created'])
    expect(events[0]).toMatchObject({ subject, actor: 'user:alice', schemaVersion: 1, sequence: 1 })
    expect(events[0]!.correlationId).toBe(events[0]!.id)
  })

  it('stores the same event id once', async () => {
    const { nc, context } = await freshStream()
    const store = createEventStore({ nc })
    const subject = subjectOf(context, 'thing', 'b')
    const event = { id: '019a0000-0000-7000-8000-000000000001', type: 'Created', data: {} }
    const a = await store.append(subject, [event], { expectedLastSubjectSequence: 'any', meta })
    const b = await store.append(subject, [event], { expectedLastSubjectSequence: 'any', meta })
    expect(b.lastSequence).toBe(a.lastSequence)
    expect(await store.load(subject)).toHaveLength(1)
  })

  it('loads exactly one subject, in order, and chains a batch', async () => {
    const { nc, context } = await freshStream()
    const store = createEventStore({ nc })
    const a = subjectOf(context, 'thing', 'a')
    const b = subjectOf(context, 'thing', 'b')
    await store.append(
      a,
      [
        { type: 'A1', data: {} },
        { type: 'A2', data: {} },
      ],
      { expectedLastSubjectSequence: 0, meta },
    )
    await store.append(b, [{ type: 'B1', data: {} }], { expectedLastSubjectSequence: 0, meta })
    await store.append(a, [{ type: 'A3', data: {} }], { expectedLastSubjectSequence: 2, meta })
    const loaded = await store.load(a)
    expect(loaded.map((e) => [e.type, e.sequence])).toEqual([
      ['A1', 1],
      ['A2', 2],
      ['A3', 4],
    ])
    expect(await store.lastSequenceOf(b)).toBe(3)
    expect(await store.load(subjectOf(context, 'thing', 'none'))).toEqual([])
  })

  it('upcasts old event versions on read without rewriting them', async () => {
    const { nc, context } = await freshStream()
    const subject = subjectOf(context, 'thing', 'c')
    await createEventStore({ nc }).append(
      subject,
      [{ type: 'Priced', schemaVersion: 1, data: { cents: 250 } }],
      {
        expectedLastSubjectSequence: 0,
        meta,
      },
    )
    const upcast = createUpcasters({
      Priced: {
        1: (data) => ({ amount: (data as { cents: number }).cents / 100, currency: 'EUR' }),
      },
    })
    const [event] = await createEventStore({ nc, upcast }).load(subject)
    expect(event).toMatchObject({ schemaVersion: 2, data: { amount: 2.5, currency: 'EUR' } })
    const [raw] = await createEventStore({ nc }).load(subject)
    expect(raw).toMatchObject({ schemaVersion: 1, data: { cents: 250 } })
  })

  it('loses no update with 20 concurrent writers on one aggregate', async () => {
    const { nc, context } = await freshStream()
    const subject = subjectOf(context, 'counter', 'one')
    let conflicts = 0
    const store = createEventStore({ nc })
    const counting = {
      ...store,
      append: async (...args: Parameters<typeof store.append>) => {
        try {
          return await store.append(...args)
        } catch (error) {
          if (error instanceof ConcurrencyError) conflicts++
          throw error
        }
      },
    }
    type Incremented = { type: 'Incremented'; data: { by: number; before: number } }
    const counter: AggregateDecider<number, Incremented, number> = {
      initialState: 0,
      eventTypes: ['Incremented'],
      evolve: (total, event) => total + event.data.by,
      decide: (by, total) => [{ type: 'Incremented', data: { by, before: total } }],
    }
    const increment = () =>
      handleCommand(counting, counter, subject, 1, { actor: { subject: 'alice' }, maxRetries: 100 })
    const results = await Promise.all(Array.from({ length: 20 }, increment))
    const events = await store.load(subject)
    expect(events).toHaveLength(20)
    expect(events.map((e) => (e.data as { before: number }).before)).toEqual([...Array(20).keys()])
    expect(Math.max(...results.map((r) => r.state))).toBe(20)
    expect(conflicts).toBeGreaterThan(0)
  })
})
