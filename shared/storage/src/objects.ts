import type { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3'
import { isAlreadyOwned, isNotFound, isNotImplemented } from './errors.ts'
import type { ObjectRef } from './presign.ts'

/** Resolves when the bucket answers (readiness probes); rejects otherwise. */
export async function assertBucketReachable(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new HeadBucketCommand({ Bucket: bucket }))
}

/** Creates the bucket unless it exists; safe to call at every start-up. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }))
    return
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  } catch (error) {
    if (!isAlreadyOwned(error)) throw error
  }
}

export async function startMultipartUpload(
  s3: S3Client,
  input: ObjectRef & { contentType?: string },
): Promise<string> {
  const result = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: input.bucket,
      Key: input.key,
      ...(input.contentType ? { ContentType: input.contentType } : {}),
    }),
  )
  if (!result.UploadId) throw new Error(`S3 returned no UploadId for ${input.key}`)
  return result.UploadId
}

export interface CompletedPartRef {
  partNumber: number
  etag: string
}

/**
 * Completes a multipart upload. Callers must have checked the part list themselves: some
 * endpoints (s3rver) crash on a Complete naming a part that was never uploaded.
 */
export async function completeMultipartUpload(
  s3: S3Client,
  input: ObjectRef & { uploadId: string; parts: CompletedPartRef[] },
): Promise<{ etag: string | undefined }> {
  const result = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: input.bucket,
      Key: input.key,
      UploadId: input.uploadId,
      MultipartUpload: {
        Parts: [...input.parts]
          .sort((a, b) => a.partNumber - b.partNumber)
          .map((part) => ({ PartNumber: part.partNumber, ETag: quoteEtag(part.etag) })),
      },
    }),
  )
  return { etag: result.ETag }
}

export type AbortOutcome = 'aborted' | 'not_supported' | 'not_found'

/**
 * Aborts a multipart upload so its parts stop costing storage. Endpoints without the
 * operation (s3rver answers 405) report `not_supported`: the caller still deletes whatever
 * object may exist, and the bucket's lifecycle rule for incomplete uploads does the rest.
 */
export async function abortMultipartUpload(
  s3: S3Client,
  input: ObjectRef & { uploadId: string },
): Promise<AbortOutcome> {
  try {
    await s3.send(
      new AbortMultipartUploadCommand({
        Bucket: input.bucket,
        Key: input.key,
        UploadId: input.uploadId,
      }),
    )
    return 'aborted'
  } catch (error) {
    if (isNotImplemented(error)) return 'not_supported'
    if (isNotFound(error)) return 'not_found'
    throw error
  }
}

export interface MultipartUploadRef {
  key: string
  uploadId: string
  initiated: Date | undefined
}

/**
 * Multipart uploads started and neither completed nor aborted (under `prefix`): what an
 * orphan looks like. They cost storage for their parts until aborted.
 */
export async function listMultipartUploads(
  s3: S3Client,
  input: { bucket: string; prefix?: string },
): Promise<MultipartUploadRef[]> {
  const uploads: MultipartUploadRef[] = []
  let keyMarker: string | undefined
  let uploadIdMarker: string | undefined
  // Bounded: a page holds up to 1000 uploads.
  for (let page = 0; page < 10_000; page++) {
    const listing = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: input.bucket,
        ...(input.prefix ? { Prefix: input.prefix } : {}),
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
      }),
    )
    for (const upload of listing.Uploads ?? []) {
      if (upload.Key && upload.UploadId) {
        uploads.push({ key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated })
      }
    }
    if (!listing.IsTruncated) return uploads
    keyMarker = listing.NextKeyMarker
    uploadIdMarker = listing.NextUploadIdMarker
  }
  throw new Error(`listMultipartUploads: too many pages in ${input.bucket}`)
}

/** Deletes one object; a missing object is not an error (deletes are retried). */
export async function deleteObject(s3: S3Client, ref: ObjectRef): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key }))
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
}

/** Deletes every object under a prefix, a page at a time; returns how many it deleted. */
export async function deletePrefix(
  s3: S3Client,
  input: { bucket: string; prefix: string },
): Promise<number> {
  if (!input.prefix || !input.prefix.endsWith('/')) {
    // A bare or unterminated prefix could match siblings (`datasets/1` vs `datasets/10/`).
    throw new Error(`refusing to delete under prefix '${input.prefix}': it must end with '/'`)
  }
  let deleted = 0
  let continuationToken: string | undefined
  // Bounded: each page removes up to 1000 keys and a listing can only shrink.
  for (let page = 0; page < 100_000; page++) {
    const listing = await s3.send(
      new ListObjectsV2Command({
        Bucket: input.bucket,
        Prefix: input.prefix,
        ...(continuationToken ? { ContinuationToken: continuationToken } : {}),
      }),
    )
    const keys = (listing.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []))
    if (keys.length > 0) {
      await deleteKeys(s3, input.bucket, keys)
      deleted += keys.length
    }
    if (!listing.IsTruncated || !listing.NextContinuationToken) return deleted
    continuationToken = listing.NextContinuationToken
  }
  throw new Error(`deletePrefix: too many pages under ${input.prefix}`)
}

async function deleteKeys(s3: S3Client, bucket: string, keys: string[]): Promise<void> {
  try {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    )
  } catch (error) {
    // Endpoints without multi-object delete still support one at a time.
    if (!isNotImplemented(error)) throw error
    for (const key of keys) await deleteObject(s3, { bucket, key })
  }
}

export async function objectExists(s3: S3Client, ref: ObjectRef): Promise<boolean> {
  return (await objectSize(s3, ref)) !== undefined
}

/** The stored object's length in bytes (HeadObject), or undefined when there is none. */
export async function objectSize(s3: S3Client, ref: ObjectRef): Promise<number | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }))
    if (head.ContentLength === undefined) throw new Error(`S3 gave no length for ${ref.key}`)
    return head.ContentLength
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/** The object's bytes as a Node stream: read it piecewise, never whole into memory. */
export async function openObjectStream(
  s3: S3Client,
  ref: ObjectRef & { abortSignal?: AbortSignal },
): Promise<{ body: Readable; contentLength: number | undefined }> {
  const result = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }), {
    ...(ref.abortSignal ? { abortSignal: ref.abortSignal } : {}),
  })
  if (!result.Body) throw new Error(`S3 returned no body for ${ref.key}`)
  return { body: result.Body as Readable, contentLength: result.ContentLength }
}

/** S3 wants ETags quoted in CompleteMultipartUpload; clients often strip the quotes. */
export function quoteEtag(etag: string): string {
  const bare = etag.replace(/^W\//, '').replace(/^"+|"+$/g, '')
  return `"${bare}"`
}

/** Keys under a prefix (first `limit`), for housekeeping and tests. */
export async function listObjectKeys(
  s3: S3Client,
  input: { bucket: string; prefix: string; limit?: number },
): Promise<string[]> {
  const listing = await s3.send(
    new ListObjectsV2Command({
      Bucket: input.bucket,
      Prefix: input.prefix,
      MaxKeys: input.limit ?? 1000,
    }),
  )
  return (listing.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []))
}
