import { describe, expect, it } from 'vitest'
import {
  datasetPrefix,
  deterministicEventId,
  sanitizeFileName,
  versionObjectKey,
} from '../../src/domain/index.ts'

describe('sanitizeFileName', () => {
  it.each([
    ['movies.csv', 'movies.csv'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\data.csv', 'data.csv'],
    ['..', 'data.csv'],
    ['/', 'data.csv'],
    ['.hidden.csv', 'hidden.csv'],
    ['a\u0000b\nc.csv', 'a_b_c.csv'],
    ['what?<>.csv', 'what___.csv'],
  ])('%j → %j', (declared, expected) => {
    expect(sanitizeFileName(declared, 'data.csv')).toBe(expected)
  })

  it('caps the length and keeps the extension', () => {
    const name = sanitizeFileName(`${'x'.repeat(400)}.jsonl`)
    expect(name).toHaveLength(255)
    expect(name.endsWith('.jsonl')).toBe(true)
  })
})

describe('object keys', () => {
  it('are built from ids only, under the dataset prefix', () => {
    expect(versionObjectKey('d1', 'v1', 'jsonl')).toBe('datasets/d1/versions/v1/data.jsonl')
    expect(versionObjectKey('d1', 'v1', 'csv').startsWith(datasetPrefix('d1'))).toBe(true)
  })

  it('refuse ids that could form a path', () => {
    expect(() => versionObjectKey('..', 'v1', 'csv')).toThrow(/storage key/)
    expect(() => versionObjectKey('d1', 'a/b', 'csv')).toThrow(/storage key/)
  })
})

describe('deterministicEventId', () => {
  it('is a stable RFC 9562 version-8 UUID', () => {
    const id = deterministicEventId('x')
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(deterministicEventId('x')).toBe(id)
    expect(deterministicEventId('y')).not.toBe(id)
  })
})
