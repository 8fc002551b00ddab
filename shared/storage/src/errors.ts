/** HTTP status of an SDK error, when the server answered at all. */
export function httpStatusOfS3Error(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
  return metadata?.httpStatusCode
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  return (error as { name?: string; Code?: string }).name ?? (error as { Code?: string }).Code
}

/** The endpoint does not implement the operation (s3rver answers 405 for several). */
export function isNotImplemented(error: unknown): boolean {
  const status = httpStatusOfS3Error(error)
  const name = errorName(error)
  return (
    status === 405 || status === 501 || name === 'NotImplemented' || name === 'MethodNotAllowed'
  )
}

export function isNotFound(error: unknown): boolean {
  const name = errorName(error)
  return (
    httpStatusOfS3Error(error) === 404 ||
    name === 'NoSuchKey' ||
    name === 'NotFound' ||
    name === 'NoSuchUpload' ||
    name === 'NoSuchBucket'
  )
}

export function isAlreadyOwned(error: unknown): boolean {
  const name = errorName(error)
  return name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists'
}
