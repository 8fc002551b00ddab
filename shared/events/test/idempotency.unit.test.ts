import { IdempotencyKeyReusedError, ValidationError } from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import {
  IDEMPOTENCY_KEY_FIELD,
  identifyCreate,
  idempotentId,
  isRepeatedCreate,
  parseIdempotencyKey,
  requestHash,
} from '../src/index.ts'

describe('parseIdempotencyKey', () => {
  it('takes a bare key and the quoted form of the IETF draft', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined()
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe(
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
    )
    expect(parseIdempotencyKey('"abc"')).toBe('abc')
    expect(parseIdempotencyKey(['abc'])).toBe('abc')
  })

  it('refuses empty, long, spaced, quoted-inside and repeated keys, naming the field', () => {
    for (const raw of ['', '""', 'a b', 'x'.repeat(256), 'a"b', '"abc', 'é', ['a', 'b']]) {
      let thrown: unknown
      try {
        parseIdempotencyKey(raw)
      } catch (error) {
        thrown = error
      }
      expect(thrown, JSON.stringify(raw)).toBeInstanceOf(ValidationError)
      expect((thrown as ValidationError).issues[0]!.field).toBe(IDEMPOTENCY_KEY_FIELD)
    }
    expect(() => parseIdempotencyKey('', 'metadata/idempotency-key')).toThrow(
      /^metadata\/idempotency-key: /,
    )
  })
})

describe('idempotentId', () => {
  const id = idempotentId({ caller: 'alice', scope: 'dataset.create', key: 'k' })

  it('is a UUID that depends on caller, scope and key alone', () => {
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(idempotentId({ caller: 'alice', scope: 'dataset.create', key: 'k' })).toBe(id)
    expect(idempotentId({ caller: 'bob', scope: 'dataset.create', key: 'k' })).not.toBe(id)
    expect(idempotentId({ caller: 'alice', scope: 'run.create', key: 'k' })).not.toBe(id)
    expect(idempotentId({ caller: 'alice', scope: 'dataset.create', key: 'k2' })).not.toBe(id)
  })

  it('cannot be forged by moving a separator between the parts', () => {
    expect(idempotentId({ caller: 'a:b', scope: 's', key: 'c' })).not.toBe(
      idempotentId({ caller: 'a', scope: 'b:s', key: 'c' }),
    )
  })
})

describe('requestHash', () => {
  it('ignores key order and whitespace, not values', () => {
    const hash = requestHash({ name: 'x', tags: ['a', 'b'], size: 10 })
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(requestHash(JSON.parse('{ "size": 10.0, "tags": ["a","b"], "name": "x" }'))).toBe(hash)
    expect(requestHash({ name: 'x', tags: ['b', 'a'], size: 10 })).not.toBe(hash)
    expect(requestHash({ name: 'x', tags: ['a', 'b'] })).not.toBe(hash)
  })

  it('refuses what JSON cannot spell canonically', () => {
    expect(() => requestHash(JSON.parse('{"name":"\\ud800"}'))).toThrow(ValidationError)
  })
})

describe('identifyCreate', () => {
  it('mints a fresh id and no hash without a key', () => {
    const created = identifyCreate({
      key: undefined,
      caller: 'alice',
      scope: 'dataset.create',
      request: { name: 'x' },
      newId: () => 'fresh',
    })
    expect(created).toEqual({ id: 'fresh', requestHash: undefined })
  })

  it('derives the id and hashes the request under a key', () => {
    const created = identifyCreate({
      key: 'k',
      caller: 'alice',
      scope: 'dataset.create',
      request: { name: 'x' },
      newId: () => 'fresh',
    })
    expect(created).toEqual({
      id: idempotentId({ caller: 'alice', scope: 'dataset.create', key: 'k' }),
      requestHash: requestHash({ name: 'x' }),
    })
  })
})

describe('isRepeatedCreate', () => {
  it('is a repeat for the same hash, "already exists" without one, 422 for another', () => {
    expect(isRepeatedCreate('h1', 'h1')).toBe(true)
    expect(isRepeatedCreate('h1', undefined)).toBe(false)
    expect(isRepeatedCreate(undefined, undefined)).toBe(false)
    expect(() => isRepeatedCreate('h1', 'h2')).toThrow(IdempotencyKeyReusedError)
    expect(() => isRepeatedCreate(undefined, 'h2')).toThrow(IdempotencyKeyReusedError)
  })
})
