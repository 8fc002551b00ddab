import { freshBucket, stackEndpoints } from '@argmax/testkit'
import { describe, expect, it } from 'vitest'
import {
  ObjectTooLargeError,
  createS3Client,
  headObject,
  presignPutObject,
  putObject,
  readObjectBytes,
} from '../src/index.ts'

describe('whole-object helpers against the local endpoint', () => {
  it('PUTs through a presigned URL, heads and reads the object back, bounded', async () => {
    const { bucket } = await freshBucket('storage')
    const s3 = createS3Client({ ...stackEndpoints().s3, forcePathStyle: true })
    const key = 'models/m/uploads/u1/model.onnx'
    const body = Buffer.from('onnx bytes, more or less')
    expect(await headObject(s3, { bucket, key })).toBeUndefined()
    const url = await presignPutObject(s3, {
      bucket,
      key,
      expiresInSeconds: 60,
      contentLength: body.length,
    })
    expect((await fetch(url, { method: 'PUT', body })).status).toBe(200)
    expect(await headObject(s3, { bucket, key })).toMatchObject({ size: body.length })
    expect(await readObjectBytes(s3, { bucket, key, maxBytes: 1024 })).toEqual(body)
    await expect(readObjectBytes(s3, { bucket, key, maxBytes: 4 })).rejects.toBeInstanceOf(
      ObjectTooLargeError,
    )
    expect(await readObjectBytes(s3, { bucket, key: 'missing', maxBytes: 4 })).toBeUndefined()

    await putObject(s3, { bucket, key: 'a.json', body: '{"a":1}', contentType: 'application/json' })
    expect((await readObjectBytes(s3, { bucket, key: 'a.json', maxBytes: 100 }))!.toString()).toBe(
      '{"a":1}',
    )
  })
})
