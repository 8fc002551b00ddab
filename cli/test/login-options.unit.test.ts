import { describe, expect, it } from 'vitest'
import { parseLoginRole, parseTtl } from '../src/auth/roles.ts'

describe('login options', () => {
  it('parses lifetimes in seconds, minutes, hours and days', () => {
    expect(parseTtl('90s')).toBe(90)
    expect(parseTtl('30m')).toBe(1_800)
    expect(parseTtl('12h')).toBe(43_200)
    expect(parseTtl('7d')).toBe(604_800)
  })

  it('refuses lifetimes it cannot read or that are too long', () => {
    for (const bad of ['12', 'h', '1w', '-1h', '0s', '31d', '1.5h']) {
      expect(() => parseTtl(bad), bad).toThrow(/--ttl/)
    }
  })

  it('accepts the four platform roles only', () => {
    expect(['admin', 'user', 'internal', 'analyst'].map(parseLoginRole)).toEqual([
      'admin',
      'user',
      'internal',
      'analyst',
    ])
    expect(() => parseLoginRole('root')).toThrow(
      /--role must be one of admin, user, internal, analyst/,
    )
  })
})
