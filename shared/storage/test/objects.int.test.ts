import { createHash } from 'node:crypto'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { freshBucket, stackEndpoints } from '@argmax/testkit'
import { describe, expect, it } from 'vitest'
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createS3Client,
  deletePrefix,
  ensureBucket,
  listMultipartUploads,
  objectExists,
  openObjectStream,
  presignGetObject,
  presignUploadPart,
  putStoredObject,
  readStoredObject,
  startMultipartUpload,
  StoredObjectMismatchError,
} from '../src/index.ts'

const MiB = 1024 * 1024

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

describe('S3 helpers against the local endpoint', () => {
  it('uploads parts through presigned URLs, completes, and reads the object back', async () => {
    const { bucket } = await freshBucket('storage')
    const s3 = createS3Client({ ...stackEndpoints().s3, forcePathStyle: true })
    const key = 'datasets/d1/versions/v1/data.csv'
    const uploadId = await startMultipartUpload(s3, { bucket, key, contentType: 'text/csv' })
    const first = Buffer.alloc(5 * MiB, 'a')
    const last = Buffer.from('the end\n')
    const parts = []
    for (const [index, body] of [first, last].entries()) {
      const url = await presignUploadPart(s3, {
        bucket,
        key,
        uploadId,
        partNumber: index + 1,
        contentLength: body.length,
        expiresInSeconds: 600,
      })
      const response = await fetch(url, { method: 'PUT', body })
      expect(response.status).toBe(200)
      parts.push({ partNumber: index + 1, etag: response.headers.get('etag')! })
    }
    await completeMultipartUpload(s3, { bucket, key, uploadId, parts })

    const { body, contentLength } = await openObjectStream(s3, { bucket, key })
    const bytes = await readAll(body)
    expect(contentLength).toBe(first.length + last.length)
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      createHash('sha256')
        .update(Buffer.concat([first, last]))
        .digest('hex'),
    )

    const download = await fetch(
      await presignGetObject(s3, {
        bucket,
        key,
        expiresInSeconds: 60,
        downloadFileName: 'movies.csv',
      }),
    )
    expect(download.status).toBe(200)
    expect((await download.arrayBuffer()).byteLength).toBe(first.length + last.length)
  })

  it('reports an endpoint without AbortMultipartUpload as not supported', async () => {
    const { bucket, s3 } = await freshBucket('storage')
    const key = 'datasets/d1/versions/v2/data.csv'
    const uploadId = await startMultipartUpload(s3, { bucket, key })
    expect(['aborted', 'not_supported']).toContain(
      await abortMultipartUpload(s3, { bucket, key, uploadId }),
    )
  })

  it('aborts one multipart upload and lists the ones left (the local endpoint too)', async () => {
    const { bucket, s3 } = await freshBucket('storage')
    const key = 'datasets/d1/versions/v3/data.csv'
    const kept = await startMultipartUpload(s3, { bucket, key })
    const dropped = await startMultipartUpload(s3, { bucket, key })
    expect((await listMultipartUploads(s3, { bucket })).map((u) => u.uploadId).sort()).toEqual(
      [kept, dropped].sort(),
    )
    expect(await abortMultipartUpload(s3, { bucket, key, uploadId: dropped })).toBe('aborted')
    expect(await abortMultipartUpload(s3, { bucket, key, uploadId: dropped })).toBe('not_found')
    const left = await listMultipartUploads(s3, { bucket, prefix: 'datasets/d1/' })
    expect(left).toEqual([{ key, uploadId: kept, initiated: expect.any(Date) }])
    expect(await listMultipartUploads(s3, { bucket, prefix: 'datasets/d2/' })).toEqual([])
  })

  it('deletes exactly the objects under a prefix', async () => {
    const { bucket, s3 } = await freshBucket('storage')
    for (const key of ['datasets/1/a', 'datasets/1/b/c', 'datasets/10/a']) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }))
    }
    expect(await deletePrefix(s3, { bucket, prefix: 'datasets/1/' })).toBe(2)
    expect(await objectExists(s3, { bucket, key: 'datasets/1/a' })).toBe(false)
    expect(await objectExists(s3, { bucket, key: 'datasets/10/a' })).toBe(true)
    await expect(deletePrefix(s3, { bucket, prefix: 'datasets/1' })).rejects.toThrow(/must end/)
  })

  it('stores bytes by reference and reads back only what the reference names', async () => {
    const { bucket, s3 } = await freshBucket('storage')
    const key = 'datasets/d1/versions/v1/profile.json'
    const body = Buffer.from(JSON.stringify({ rowCount: 3, columns: [] }))
    const stored = await putStoredObject(s3, { bucket, key, body, contentType: 'application/json' })
    expect(stored).toEqual({
      uri: `s3://${bucket}/${key}`,
      sha256: createHash('sha256').update(body).digest('hex'),
      size: body.length,
    })
    expect(await readStoredObject(s3, stored, { maxBytes: 1024 })).toEqual(body)
    await expect(readStoredObject(s3, stored, { maxBytes: 8 })).rejects.toThrow(
      /more than the 8 allowed/,
    )
    // Changed behind the reference's back: same length, other bytes; then another length.
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(body).reverse() }),
    )
    await expect(readStoredObject(s3, stored, { maxBytes: 1024 })).rejects.toThrow(
      StoredObjectMismatchError,
    )
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }))
    await expect(readStoredObject(s3, stored, { maxBytes: 1024 })).rejects.toThrow(
      /holds 1 bytes, the reference says/,
    )
  })

  it('creates a bucket once and accepts being asked again', async () => {
    const { s3 } = await freshBucket('storage')
    const bucket = `ensure-${Date.now().toString(36)}`
    await ensureBucket(s3, bucket)
    await ensureBucket(s3, bucket)
  })
})
