import type { ColumnType, Insertable, Selectable } from 'kysely'

type Timestamp = ColumnType<Date, Date | string, Date | string>
/** pg returns bigint as a string; every reader converts with Number() (sizes < 2^53). */
type BigInt = ColumnType<string, number | string, number | string>
type JsonColumn = ColumnType<unknown, string, string>

export interface DatasetVersionsTable {
  id: string
  dataset_id: string
  /** 1, 2, 3… per dataset, in the order uploads started (stream order, so rebuilds agree). */
  number: number
  owner_id: string
  status: string
  file_name: string
  format: string
  size: BigInt
  sha256: string
  part_size: BigInt
  part_count: number
  bucket: string
  object_key: string
  s3_upload_id: string
  row_count: BigInt | null
  schema: JsonColumn | null
  profile: JsonColumn | null
  errors: JsonColumn
  checksum_mismatch: boolean
  created_at: Timestamp
  completed_at: Timestamp | null
  finished_at: Timestamp | null
}

export type DatasetVersionRow = Selectable<DatasetVersionsTable>
export type NewDatasetVersionRow = Insertable<DatasetVersionsTable>
