import { describe, expect, it } from 'vitest'
import { deciderSpec, type Decider } from '../src/index.ts'

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
