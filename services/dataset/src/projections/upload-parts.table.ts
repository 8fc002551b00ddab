import type { Insertable, Selectable } from 'kysely'

/** Parts recorded for uploads in progress; dropped once the upload completes or aborts. */
export interface UploadPartsTable {
  version_id: string
  part_number: number
  etag: string
}

export type UploadPartRow = Selectable<UploadPartsTable>
export type NewUploadPartRow = Insertable<UploadPartsTable>
