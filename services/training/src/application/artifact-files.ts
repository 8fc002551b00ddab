import { createHash } from 'node:crypto'
import type { StoredObject } from '@argmax/contracts'
import { s3Uri } from '@argmax/contracts'
import { PayloadTooLargeError } from '@argmax/errors'
import { openObjectStream, type S3Client } from '@argmax/storage'

/** An object's bytes (bounded: refused past `limit`) with its SHA-256. */
export async function readObject(
  s3: S3Client,
  bucket: string,
  key: string,
  limit: number,
): Promise<{ bytes: Buffer; object: StoredObject }> {
  const { body, contentLength } = await openObjectStream(s3, { bucket, key })
  if (contentLength !== undefined && contentLength > limit) {
    body.destroy()
    throw new PayloadTooLargeError(key, limit, contentLength)
  }
  const hash = createHash('sha256')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > limit) {
      body.destroy()
      throw new PayloadTooLargeError(key, limit, size)
    }
    hash.update(buffer)
    chunks.push(buffer)
  }
  return {
    bytes: Buffer.concat(chunks),
    object: { uri: s3Uri(bucket, key), sha256: hash.digest('hex'), size },
  }
}

/** An object's SHA-256 and size, streamed (never whole in memory). */
export async function hashObject(s3: S3Client, bucket: string, key: string): Promise<StoredObject> {
  const { body } = await openObjectStream(s3, { bucket, key })
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    hash.update(chunk as Buffer)
  }
  return { uri: s3Uri(bucket, key), sha256: hash.digest('hex'), size }
}
