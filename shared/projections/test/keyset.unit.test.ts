import { describe, expect, it } from 'vitest'
import { decodeCursor, encodeCursor, escapeLike } from '../src/keyset.ts'

describe('keyset cursors', () => {
  it('round-trips a position, keys with a bar included', () => {
    const position = { at: '2026-12-01T10:00:00.000Z', key: 'movies|v2' }
    expect(decodeCursor(encodeCursor(position))).toEqual(position)
  })

  it.each(['', 'bm90IGEgY3Vyc29y', encodeCursor({ at: 'yesterday', key: 'x' })])(
    'reads a cursor that does not decode (%j) as none',
    (cursor) => {
      expect(decodeCursor(cursor)).toBeUndefined()
    },
  )

  it('escapes LIKE metacharacters', () => {
    expect(escapeLike('50%_off\\')).toBe('50\\%\\_off\\\\')
  })
})
