import { GetObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'

export interface ObjectRef {
  bucket: string
  key: string
}

/**
 * A URL a client PUTs one part's bytes to; the response's ETag header identifies the part.
 * `contentLength` is signed (`content-length` in `X-Amz-SignedHeaders`): S3 recomputes the
 * signature from the length the request carries, so a body of any other length is refused
 * (403) and a client cannot store more than the part it declared. (s3rver does not check V4
 * signatures at all: there, the service's checks of the assembled object are the guard.)
 */
export function presignUploadPart(
  s3: S3Client,
  input: ObjectRef & {
    uploadId: string
    partNumber: number
    contentLength: number
    expiresInSeconds: number
  },
): Promise<string> {
  return getSignedUrl(
    s3,
    new UploadPartCommand({
      Bucket: input.bucket,
      Key: input.key,
      UploadId: input.uploadId,
      PartNumber: input.partNumber,
      ContentLength: input.contentLength,
    }),
    { expiresIn: input.expiresInSeconds, signableHeaders: new Set(['content-length']) },
  )
}

/**
 * A URL a client GETs the object from. `downloadFileName` becomes the Content-Disposition the
 * server answers with, so the saved file has the user's name rather than the storage key.
 */
export function presignGetObject(
  s3: S3Client,
  input: ObjectRef & { expiresInSeconds: number; downloadFileName?: string },
): Promise<string> {
  return getSignedUrl(
    s3,
    new GetObjectCommand({
      Bucket: input.bucket,
      Key: input.key,
      ...(input.downloadFileName
        ? { ResponseContentDisposition: contentDisposition(input.downloadFileName) }
        : {}),
    }),
    { expiresIn: input.expiresInSeconds },
  )
}

/** RFC 6266 attachment header with an ASCII fallback and the UTF-8 name. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`
}
