import { describe, expect, it } from 'vitest'
import { tsvNullableString, tsvNumber, tsvString, tsvTimeFields } from '../src/tab-separated.ts'

describe('TabSeparated fields', () => {
  it('escape backslash, tab, newline and carriage return, and nothing else', () => {
    expect(tsvString('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e')
    expect(tsvString('\\N')).toBe('\\\\N')
    expect(tsvString('plain "quoted" \'text\' ünïcødé')).toBe('plain "quoted" \'text\' ünïcødé')
    expect(tsvNullableString(null)).toBe('\\N')
    expect(tsvNullableString('')).toBe('')
  })

  it('write numbers as JavaScript spells them, NULL as \\N, and refuse what is not finite', () => {
    expect([0.1 + 0.2, 1e-7, -3, 2 ** 53].map(tsvNumber)).toEqual([
      '0.30000000000000004',
      '1e-7',
      '-3',
      '9007199254740992',
    ])
    expect(tsvNumber(null)).toBe('\\N')
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '7' as unknown as number]) {
      expect(() => tsvNumber(bad)).toThrow(RangeError)
    }
  })

  it('cut a time into DateTime, milliseconds and Date in UTC, whatever its spelling', () => {
    const fields = { dateTime: '2026-12-01 10:11:12', ms: 345, date: '2026-12-01' }
    expect(tsvTimeFields('2026-12-01T10:11:12.345Z')).toEqual(fields)
    expect(tsvTimeFields('2026-12-01T11:11:12.345+01:00')).toEqual(fields)
    expect(tsvTimeFields('2026-12-01T23:59:59Z')).toEqual({
      dateTime: '2026-12-01 23:59:59',
      ms: 0,
      date: '2026-12-01',
    })
    expect(() => tsvTimeFields('yesterday')).toThrow(RangeError)
  })
})
