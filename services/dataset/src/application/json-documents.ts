import type { JsonDocument } from '@argmax/contracts'
import { isNotFound, putStoredObject, readStoredObject, type S3Client } from '@argmax/storage'
import { jsonByteLength } from '../domain/index.ts'

/**
 * The largest stored document read back: a profile of 2,000 columns with long names and top
 * values takes a few MB; anything far beyond that was not written by the validator.
 */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024

/** Reads a JsonDocument; undefined when its stored object is gone (the dataset was purged). */
export type ReadJsonDocument = <T>(document: JsonDocument<T>) => Promise<T | undefined>

/**
 * `inline` when the value takes at most `maxInlineBytes` of JSON, otherwise stored under
 * `key` (as the same JSON) and referenced. Stored before the event that references it is
 * written, so no event ever points at nothing; storing the same value again is harmless.
 */
export async function toJsonDocument<T>(
  s3: S3Client,
  value: T,
  target: { bucket: string; key: string; maxInlineBytes: number },
): Promise<JsonDocument<T>> {
  if (target.maxInlineBytes > 0 && jsonByteLength(value) <= target.maxInlineBytes) {
    return { inline: value }
  }
  const body = Buffer.from(JSON.stringify(value), 'utf8')
  const stored = await putStoredObject(s3, {
    bucket: target.bucket,
    key: target.key,
    body,
    contentType: 'application/json',
  })
  return { stored }
}

export function jsonDocumentReader(s3: S3Client): ReadJsonDocument {
  return async <T>(document: JsonDocument<T>): Promise<T | undefined> => {
    if ('inline' in document) return document.inline
    try {
      const bytes = await readStoredObject(s3, document.stored, { maxBytes: MAX_DOCUMENT_BYTES })
      return JSON.parse(bytes.toString('utf8')) as T
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }
}
