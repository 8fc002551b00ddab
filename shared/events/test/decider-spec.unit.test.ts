import { describe, expect, it } from 'vitest'
import { createUpcasters, deciderSpec, type Decider, type RecordedEvent } from '../src/index.ts'

type Event = { type: 'Opened'; data: { at: string } } | { type: 'Closed'; data: { at: string } }
type Command = { type: 'Close'; at: string }

const door: Decider<Command, Event, 'open' | 'closed' | 'none'> = {
  initialState: 'none',
  evolve: (_state, event) => (event.type === 'Opened' ? 'open' : 'closed'),
  decide: (command, state) => {
    if (state !== 'open') throw new RangeError('the door is not open')
    return [{ type: 'Closed', data: { at: command.at } }]
  },
}

describe('deciderSpec', () => {
  const spec = deciderSpec(door)
  it('passes when the decided events match', () => {
    spec
      .given([{ type: 'Opened', data: { at: 't0' } }])
      .when({ type: 'Close', at: 't1' })
      .then([{ type: 'Closed', data: { at: 't1' } }])
  })
  it('fails when they do not', () => {
    expect(() =>
      spec
        .given([{ type: 'Opened', data: { at: 't0' } }])
        .when({ type: 'Close', at: 't1' })
        .then([]),
    ).toThrow(/expected events \[\]/)
  })
  it('checks the error class and message of a refusal', () => {
    spec.given([]).when({ type: 'Close', at: 't1' }).thenThrows(RangeError, 'not open')
    expect(() => spec.given([]).when({ type: 'Close', at: 't1' }).thenThrows(TypeError)).toThrow(
      /expected TypeError/,
    )
  })
})

describe('upcasters', () => {
  const base: RecordedEvent = {
    id: '1',
    type: 'Renamed',
    schemaVersion: 1,
    stream: 'S',
    subject: 's.a.1',
    occurredAt: '',
    actor: 'a',
    correlationId: '1',
    causationId: null,
    data: { name: 'x' },
    sequence: 1,
  }
  const upcast = createUpcasters({
    Renamed: {
      1: (d) => ({ ...(d as object), reason: 'unknown' }),
      2: (d) => ({ title: (d as { name: string }).name, reason: (d as { reason: string }).reason }),
    },
  })
  it('walks an old event up one version at a time', () => {
    expect(upcast(base)).toMatchObject({
      schemaVersion: 3,
      data: { title: 'x', reason: 'unknown' },
    })
  })
  it('leaves current and unknown events as they are', () => {
    const current = { ...base, schemaVersion: 3 }
    expect(upcast(current)).toBe(current)
    const other = { ...base, type: 'Other' }
    expect(upcast(other)).toBe(other)
  })
})
