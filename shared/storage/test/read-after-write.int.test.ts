import { createHash, randomBytes } from 'node:crypto'
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { freshBucket, stackEndpoints } from '@argmax/testkit'
import { describe, expect, it } from 'vitest'
import { createS3Client, headObject, presignPutObject } from '../src/index.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

// What the platform does right after an upload: the registry heads a model its client has just
// PUT, the dataset validator reads a file whose multipart upload was just completed. S3 reads
// its writes; the local endpoint must too (see @argmax/stack's s3rver-read-after-write.ts).
describe('the local S3 endpoint reads its own writes', () => {
  it('heads every byte right after a presigned PUT, 40 times over', async () => {
    const { bucket } = await freshBucket('raw')
    const s3 = createS3Client({ ...stackEndpoints().s3, forcePathStyle: true })
    const body = randomBytes(256 * 1024)
    const sizes: number[] = []
    for (let i = 0; i < 40; i++) {
      const key = `objects/${i}`
      const url = await presignPutObject(s3, {
        bucket,
        key,
        expiresInSeconds: 60,
        contentLength: body.length,
      })
      expect((await fetch(url, { method: 'PUT', body })).status).toBe(200)
      sizes.push((await headObject(s3, { bucket, key }))!.size)
    }
    expect(sizes).toEqual(sizes.map(() => body.length))
  })

  it('reads a whole object right after the last part and the completion, 10 times over', async () => {
    const { bucket } = await freshBucket('raw')
    const s3 = createS3Client({ ...stackEndpoints().s3, forcePathStyle: true })
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1024 * 1024)]
    const whole = Buffer.concat(parts)
    for (let i = 0; i < 10; i++) {
      const key = `multipart/${i}`
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
      )
      const etags: string[] = []
      for (const [index, body] of parts.entries()) {
        const { ETag } = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: index + 1,
            Body: body,
            ContentLength: body.length,
          }),
        )
        etags.push(ETag!)
      }
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
        }),
      )
      const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      const bytes = await read.Body!.transformToByteArray()
      expect({ size: bytes.length, sha256: sha256(bytes) }).toEqual({
        size: whole.length,
        sha256: sha256(whole),
      })
    }
  })
})
