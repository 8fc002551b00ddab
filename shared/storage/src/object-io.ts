import type { Readable } from 'node:stream'
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { isNotFound } from './errors.ts'
import type { ObjectRef } from './presign.ts'

/**
 * A URL a client PUTs a whole object to (single-part uploads up to S3's 5 GiB PUT limit). With
 * `contentLength` the signature covers the length: a body of another size is refused by S3.
 */
export function presignPutObject(
  s3: S3Client,
  input: ObjectRef & { expiresInSeconds: number; contentLength?: number; contentType?: string },
): Promise<string> {
  return getSignedUrl(
    s3,
    new PutObjectCommand({
      Bucket: input.bucket,
      Key: input.key,
      ...(input.contentLength !== undefined ? { ContentLength: input.contentLength } : {}),
      ...(input.contentType ? { ContentType: input.contentType } : {}),
    }),
    { expiresIn: input.expiresInSeconds, signableHeaders: new Set(['content-length']) },
  )
}

/** The object's size (HeadObject), or undefined when there is no such object. */
export async function headObject(
  s3: S3Client,
  ref: ObjectRef,
): Promise<{ size: number; etag: string | undefined } | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }))
    return { size: head.ContentLength ?? 0, etag: head.ETag }
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/** Stores small bytes (a JSON document) in one PUT. */
export async function putObject(
  s3: S3Client,
  input: ObjectRef & { body: Uint8Array | string; contentType?: string },
): Promise<void> {
  const body = typeof input.body === 'string' ? Buffer.from(input.body) : input.body
  await s3.send(
    new PutObjectCommand({
      Bucket: input.bucket,
      Key: input.key,
      Body: body,
      ContentLength: body.length,
      ...(input.contentType ? { ContentType: input.contentType } : {}),
    }),
  )
}

export class ObjectTooLargeError extends Error {
  constructor(
    readonly key: string,
    readonly limit: number,
  ) {
    super(`${key} is larger than ${limit} bytes`)
    this.name = 'ObjectTooLargeError'
  }
}

/**
 * A small object's bytes (a signature, a metrics file), refused past `maxBytes` before more is
 * read; undefined when there is no such object.
 */
export async function readObjectBytes(
  s3: S3Client,
  ref: ObjectRef & { maxBytes: number },
): Promise<Buffer | undefined> {
  let body: Readable
  try {
    const result = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }))
    if ((result.ContentLength ?? 0) > ref.maxBytes) {
      ;(result.Body as Readable | undefined)?.destroy()
      throw new ObjectTooLargeError(ref.key, ref.maxBytes)
    }
    body = result.Body as Readable
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > ref.maxBytes) {
      body.destroy()
      throw new ObjectTooLargeError(ref.key, ref.maxBytes)
    }
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}
