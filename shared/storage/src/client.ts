import { S3Client } from '@aws-sdk/client-s3'

/** What a process needs to reach its object store (see @argmax/config's `s3Settings`). */
export interface S3Settings {
  /** Omit for AWS itself; set for MinIO, R2, s3rver and friends. */
  endpoint?: string | undefined
  region: string
  accessKeyId: string
  secretAccessKey: string
  /** Path-style URLs (`http://host/bucket/key`): required by s3rver and most local endpoints. */
  forcePathStyle?: boolean | undefined
}

/**
 * The one way Argmax builds an S3 client. Checksums are only sent when an operation needs one:
 * current SDKs otherwise stream bodies as `aws-chunked`, which several S3-compatible servers
 * (s3rver among them) store verbatim, and presigned URLs would carry checksum parameters that
 * browsers and plain `fetch` cannot satisfy.
 */
export function createS3Client(settings: S3Settings): S3Client {
  return new S3Client({
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    region: settings.region,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    forcePathStyle: settings.forcePathStyle ?? Boolean(settings.endpoint),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}
