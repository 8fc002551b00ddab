import type { Selectable } from 'kysely'
import type { BigIntColumn, JsonColumn, Timestamp } from './column-types.ts'

/** Manual registrations: open ones are what the purge expires. */
export interface ModelUploadsTable {
  id: string
  model: string
  owner_id: string
  status: string
  bucket: string
  object_key: string
  size: BigIntColumn
  sha256: string | null
  signature_ref: JsonColumn
  task: string
  version: number | null
  started_at: Timestamp
  finished_at: Timestamp | null
}

export type ModelUploadRow = Selectable<ModelUploadsTable>
