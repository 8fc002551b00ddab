import { describe, expect, it } from 'vitest'
import {
  decodeRecorded,
  encodeEnvelope,
  mayHoldUnstorableText,
  storableText,
  unstorableTextReason,
  type EventEnvelope,
} from '../src/index.ts'

const envelope = (data: unknown): EventEnvelope => ({
  id: 'e1',
  type: 'Noted',
  schemaVersion: 1,
  stream: 'S',
  subject: 's.1',
  occurredAt: '2026-12-02T00:00:00.000Z',
  actor: 'alice',
  correlationId: 'e1',
  causationId: null,
  data,
})

describe('text PostgreSQL can store', () => {
  it('says why a string cannot be stored', () => {
    expect(unstorableTextReason('fine 🙂')).toBeUndefined()
    expect(unstorableTextReason('a\u0000')).toBe('must not contain the character U+0000 (NUL)')
    expect(unstorableTextReason('\udc00')).toBe(
      'must be well-formed Unicode (it holds a lone surrogate)',
    )
    expect(storableText('a\u0000b\ud800🙂')).toBe('a\uFFFDb\uFFFD🙂')
  })

  it('tells from JSON text whether a slow look is needed', () => {
    expect(mayHoldUnstorableText(JSON.stringify({ a: 'x\u0000', b: 1 }))).toBe(true)
    expect(mayHoldUnstorableText(JSON.stringify({ a: '\ud83d' }))).toBe(true)
    expect(mayHoldUnstorableText(JSON.stringify({ a: '🙂 \\u00e9', b: [1, 'x'] }))).toBe(false)
  })

  it('stores an event with U+FFFD in place of such text, in strings and keys, and leaves the rest', () => {
    const data = { log: 'crashed\u0000\u0000', metrics: { 'r2\u0000': 0.5 }, note: '\\u0000 🙂' }
    const stored = decodeRecorded(encodeEnvelope(envelope(data)), 3)
    expect(stored.data).toEqual({
      log: 'crashed\uFFFD\uFFFD',
      metrics: { 'r2\uFFFD': 0.5 },
      note: '\\u0000 🙂',
    })
    const plain = envelope({ a: 'x', b: [1, 2] })
    expect(new TextDecoder().decode(encodeEnvelope(plain))).toBe(JSON.stringify(plain))
  })
})
