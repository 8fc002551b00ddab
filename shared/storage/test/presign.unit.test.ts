import { describe, expect, it } from 'vitest'
import { createS3Client } from '../src/client.ts'
import { contentDisposition, presignUploadPart } from '../src/presign.ts'
import { quoteEtag } from '../src/objects.ts'
import { isNotImplemented } from '../src/errors.ts'
import { signatureS3WouldExpect } from './support/sigv4.ts'

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCY',
}

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

describe('presignUploadPart', () => {
  const s3 = createS3Client({
    endpoint: 'http://127.0.0.1:9000',
    region: 'eu-west-1',
    ...credentials,
  })
  const part = {
    bucket: 'b',
    key: 'datasets/d/versions/v/data.csv',
    uploadId: 'u-1',
    partNumber: 2,
  }

  it("binds the part's length: S3 refuses the URL for a body of any other length", async () => {
    const url = await presignUploadPart(s3, {
      ...part,
      contentLength: 5_242_880,
      expiresInSeconds: 900,
    })
    const parsed = new URL(url)
    expect(parsed.searchParams.get('X-Amz-SignedHeaders')!.split(';')).toEqual([
      'content-length',
      'host',
    ])
    expect(parsed.searchParams.get('X-Amz-Expires')).toBe('900')
    const signature = parsed.searchParams.get('X-Amz-Signature')
    const host = parsed.host
    expect(
      signatureS3WouldExpect(url, credentials.secretAccessKey, {
        host,
        'content-length': '5242880',
      }),
    ).toBe(signature)
    // A byte more, a byte less or gigabytes more: the signature no longer matches (403).
    for (const length of ['5242881', '5242879', String(2 ** 31)]) {
      expect(
        signatureS3WouldExpect(url, credentials.secretAccessKey, {
          host,
          'content-length': length,
        }),
      ).not.toBe(signature)
    }
  })
})
