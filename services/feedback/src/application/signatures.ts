import { createHash } from 'node:crypto'
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { parseS3Uri, type ModelSignature, type StoredObject } from '@argmax/contracts'
import { UnavailableError, markDependency } from '@argmax/errors'

/**
 * Reads JSON objects the platform stored by reference (a version's `schema.json`, a profile the
 * dataset context moved to S3), checks their SHA-256 and keeps them by it: the same bytes are
 * fetched once per process, and a tampered or truncated object is refused, never used.
 */
export interface StoredJson {
  load<T>(object: StoredObject): Promise<T>
}

export function createStoredJson(s3: S3Client, maxEntries = 500): StoredJson {
  const cache = new Map<string, Promise<unknown>>()
  return {
    load<T>(object: StoredObject): Promise<T> {
      const cached = cache.get(object.sha256)
      if (cached) return cached as Promise<T>
      const loading = fetchJson(s3, object)
      cache.set(object.sha256, loading)
      loading.catch(() => cache.delete(object.sha256))
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value!)
      return loading as Promise<T>
    },
  }
}

async function fetchJson(s3: S3Client, object: StoredObject): Promise<unknown> {
  const where = parseS3Uri(object.uri)
  if (!where) throw new Error(`${object.uri} is not an s3:// URI`)
  let bytes: Uint8Array
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: where.bucket, Key: where.key }))
    bytes = await answer.Body!.transformToByteArray()
  } catch (error) {
    markDependency(error, 's3')
    throw error
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  if (sha256 !== object.sha256.toLowerCase()) {
    // Not what the event promised: refuse it now, and read it again on the next call.
    throw new UnavailableError(
      `${object.uri} does not have the SHA-256 its event recorded (${sha256} ≠ ${object.sha256})`,
      { dependency: 's3' },
    )
  }
  return JSON.parse(Buffer.from(bytes).toString('utf8'))
}

export function loadSignature(stored: StoredJson, object: StoredObject): Promise<ModelSignature> {
  return stored.load<ModelSignature>(object)
}
