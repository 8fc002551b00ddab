import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { forged } from '../src/forged.ts'

describe('forged', () => {
  it('always changes the bytes of the signature, whatever its last characters', () => {
    for (let i = 0; i < 2_000; i++) {
      const signature = randomBytes(32).toString('base64url')
      const token = `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.${signature}`
      const [head, body, broken] = forged(token).split('.')
      expect(`${head}.${body}`).toBe('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0')
      expect(Buffer.from(broken!, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(
        false,
      )
    }
  })

  it('refuses a string with nothing signed after the separator', () => {
    expect(() => forged('no-signature')).toThrow('no signature after "."')
    expect(() => forged('a.')).toThrow('no signature after "."')
  })
})
