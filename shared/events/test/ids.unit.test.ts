import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { deterministicUuid } from '../src/ids.ts'

/** The id as first specified: the digest's first 16 bytes with version 8 and variant 10 set. */
function reference(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

describe('deterministicUuid', () => {
  it('keeps the ids already written (stored events and rows name them)', () => {
    expect(deterministicUuid('feedback.label:req-1:0')).toBe(reference('feedback.label:req-1:0'))
    expect(deterministicUuid('')).toBe('e3b0c442-98fc-8c14-9afb-f4c8996fb924')
  })

  it('equals the byte-wise derivation for every variant nibble and any text', () => {
    const variants = new Set<string>()
    for (let i = 0; i < 2_000; i++) {
      const name = `name:${i}:${i % 7 === 0 ? 'é✓😀' : ''}`
      const id = deterministicUuid(name)
      expect(id).toBe(reference(name))
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      variants.add(id[19]!)
    }
    expect(variants).toEqual(new Set(['8', '9', 'a', 'b']))
  })
})
