import type { ColumnType, Insertable, Selectable } from 'kysely'

type Timestamp = ColumnType<Date, Date | string, Date | string>

export interface DatasetsTable {
  id: string
  name: string
  description: string
  tags: string[]
  owner_id: string
  created_at: Timestamp
  updated_at: Timestamp
  deleted_at: Timestamp | null
  version_count: number
}

export type DatasetRow = Selectable<DatasetsTable>
export type NewDatasetRow = Insertable<DatasetsTable>
