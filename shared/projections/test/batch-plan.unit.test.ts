import { decodeRecorded, encodeEnvelope, type EventEnvelope } from '@argmax/events'
import { describe, expect, it } from 'vitest'
import { planBatch, type StoredMessage } from '../src/batch-plan.ts'
import { selectorFor } from '../src/projection.ts'

function message(sequence: number, type: string, subject = 'counts.item.a'): StoredMessage {
  const envelope: EventEnvelope = {
    id: `id-${sequence}`,
    type,
    schemaVersion: 1,
    stream: 'COUNTS',
    subject,
    occurredAt: '2026-01-01T00:00:00.000Z',
    actor: 'test',
    correlationId: 'c',
    causationId: null,
    data: {},
  }
  return { sequence, subject, data: encodeEnvelope(envelope) }
}

const decode = (m: StoredMessage) => decodeRecorded(m.data, m.sequence)
const selector = selectorFor({ name: 'p', handles: ['Counted'], subjects: ['counts.>'] })

describe('planBatch', () => {
  it('applies handled events in order and moves the checkpoint to the last message', () => {
    const plan = planBatch([message(1, 'Counted'), message(2, 'Counted')], 0, selector, decode)
    expect(plan.events.map((e) => e.sequence)).toEqual([1, 2])
    expect(plan.through).toBe(2)
    expect(plan.undecodable).toBeUndefined()
  })

  it('skips what is at or below the checkpoint (redelivery)', () => {
    const batch = [message(4, 'Counted'), message(5, 'Counted'), message(6, 'Counted')]
    const plan = planBatch(batch, 5, selector, decode)
    expect(plan.events.map((e) => e.sequence)).toEqual([6])
    expect(plan.through).toBe(6)
  })

  it('keeps the checkpoint when everything was applied already', () => {
    const plan = planBatch([message(1, 'Counted'), message(2, 'Counted')], 9, selector, decode)
    expect(plan).toEqual({ events: [], through: 9 })
  })

  it('advances past unhandled types and other subjects without applying them', () => {
    const batch = [
      message(1, 'Ignored'),
      message(2, 'Counted', 'other.item.a'),
      message(3, 'Counted'),
      message(4, 'Ignored'),
    ]
    const plan = planBatch(batch, 0, selector, decode)
    expect(plan.events.map((e) => e.sequence)).toEqual([3])
    expect(plan.through).toBe(4)
  })

  it('stops before an undecodable message and names it', () => {
    const garbage: StoredMessage = {
      sequence: 2,
      subject: 'counts.item.a',
      data: new TextEncoder().encode('{not json'),
    }
    const plan = planBatch(
      [message(1, 'Counted'), garbage, message(3, 'Counted')],
      0,
      selector,
      decode,
    )
    expect(plan.events.map((e) => e.sequence)).toEqual([1])
    expect(plan.through).toBe(1)
    expect(plan.undecodable?.sequence).toBe(2)
    expect(plan.undecodable?.error).toBeInstanceOf(SyntaxError)
  })

  it('treats an upcaster failure like a decoding failure', () => {
    const failingUpcast = (m: StoredMessage) => {
      if (m.sequence === 1) throw new Error('no upcaster for Counted v0')
      return decode(m)
    }
    const plan = planBatch([message(1, 'Counted')], 0, selector, failingUpcast)
    expect(plan).toMatchObject({ events: [], through: 0, undecodable: { sequence: 1 } })
  })
})
