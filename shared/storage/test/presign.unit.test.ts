import { describe, expect, it } from 'vitest'
import { contentDisposition } from '../src/presign.ts'
import { quoteEtag } from '../src/objects.ts'
import { isNotImplemented } from '../src/errors.ts'

describe('contentDisposition', () => {
  it('keeps an ASCII fallback without quotes and the UTF-8 name encoded', () => {
    expect(contentDisposition('données "v1".csv')).toBe(
      `attachment; filename="donn_es _v1_.csv"; filename*=UTF-8''donn%C3%A9es%20%22v1%22.csv`,
    )
  })
})

describe('quoteEtag', () => {
  it('quotes bare ETags once', () => {
    expect(quoteEtag('abc')).toBe('"abc"')
    expect(quoteEtag('"abc"')).toBe('"abc"')
  })
})

describe('isNotImplemented', () => {
  it('recognises a 405 answer', () => {
    expect(isNotImplemented({ name: 'MethodNotAllowed', $metadata: { httpStatusCode: 405 } })).toBe(
      true,
    )
    expect(isNotImplemented({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } })).toBe(false)
  })
})
