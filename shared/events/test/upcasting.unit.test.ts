import { describe, expect, it } from 'vitest'
import { createUpcasters, type RecordedEvent } from '../src/index.ts'

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
