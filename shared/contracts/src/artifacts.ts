/**
 * An object the platform stored, by reference: events carry these instead of the bytes, so
 * every event fits NATS's payload limit whatever the model or schema size.
 */
export interface StoredObject {
  /** `s3://<bucket>/<key>` */
  uri: string
  /** Hex SHA-256 of the object's bytes: readers verify what they load. */
  sha256: string
  size: number
}

/** `s3://bucket/key` → its parts; undefined for anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)
  return match ? { bucket: match[1]!, key: match[2]! } : undefined
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`
}
