import type { JsonColumn, Timestamp } from './column-types.ts'

/**
 * Signatures by SHA-256, as read (and verified) from storage: not a projection but a cache the
 * API reads them from; a missing row is read from storage again.
 */
export interface SignatureCacheTable {
  sha256: string
  body: JsonColumn
  stored_at: Timestamp
}
