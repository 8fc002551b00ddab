import { createHash } from 'node:crypto'
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { parseS3Uri, s3Uri, type StoredObject } from '@argmax/contracts'
import type { ObjectRef } from './presign.ts'

/** Bytes that are not what a reference says (a size or SHA-256 that differ, or too many). */
export class StoredObjectMismatchError extends Error {
  constructor(
    readonly uri: string,
    message: string,
  ) {
    super(`${uri}: ${message}`)
    this.name = 'StoredObjectMismatchError'
  }
}

/**
 * Stores small bytes (a profile, a schema, a metrics file) and returns the reference an event
 * carries instead of them. Writing the same bytes again gives the same reference, so a retried
 * writer is harmless.
 */
export async function putStoredObject(
  s3: S3Client,
  input: ObjectRef & { body: Uint8Array; contentType?: string },
): Promise<StoredObject> {
  await s3.send(
    new PutObjectCommand({
      Bucket: input.bucket,
      Key: input.key,
      Body: input.body,
      ContentLength: input.body.length,
      ...(input.contentType ? { ContentType: input.contentType } : {}),
    }),
  )
  return {
    uri: s3Uri(input.bucket, input.key),
    sha256: createHash('sha256').update(input.body).digest('hex'),
    size: input.body.length,
  }
}

/**
 * The bytes a reference names, checked: refused before reading when the object is larger than
 * `maxBytes` or than the reference says, and after reading when its size or SHA-256 differ.
 * A missing object is S3's NotFound (see isNotFound).
 */
export async function readStoredObject(
  s3: S3Client,
  stored: StoredObject,
  options: { maxBytes: number; abortSignal?: AbortSignal },
): Promise<Buffer> {
  const ref = parseS3Uri(stored.uri)
  if (!ref) throw new StoredObjectMismatchError(stored.uri, 'not an s3:// URI')
  if (stored.size > options.maxBytes) {
    throw new StoredObjectMismatchError(
      stored.uri,
      `${stored.size} bytes is more than the ${options.maxBytes} allowed`,
    )
  }
  const object = await s3.send(
    new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }),
    options.abortSignal ? { abortSignal: options.abortSignal } : {},
  )
  if (object.ContentLength !== undefined && object.ContentLength !== stored.size) {
    ;(object.Body as { destroy?: () => void } | undefined)?.destroy?.()
    throw new StoredObjectMismatchError(
      stored.uri,
      `holds ${object.ContentLength} bytes, the reference says ${stored.size}`,
    )
  }
  const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? [])
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  if (bytes.length !== stored.size || sha256 !== stored.sha256) {
    throw new StoredObjectMismatchError(
      stored.uri,
      `its bytes (${bytes.length}, SHA-256 ${sha256}) are not the ones referenced`,
    )
  }
  return bytes
}
