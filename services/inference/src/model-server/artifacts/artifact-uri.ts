/** Where a model artifact lives: `s3://<bucket>/<key>`. */
export interface ArtifactLocation {
  bucket: string
  key: string
}

// S3 bucket names: 3–63 lower-case letters, digits, dots and hyphens.
const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/

/** Parses an `s3://bucket/key` URI; returns undefined when it is not one. */
export function parseArtifactUri(uri: string): ArtifactLocation | undefined {
  const match = S3_URI.exec(uri)
  if (!match) return undefined
  return { bucket: match[1]!, key: match[2]! }
}

export function formatArtifactUri(location: ArtifactLocation): string {
  return `s3://${location.bucket}/${location.key}`
}
