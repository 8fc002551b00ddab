import type { Insertable, Selectable } from 'kysely'
import type { Timestamp } from './column-types.ts'

export interface ModelsTable {
  name: string
  owner_id: string
  task: string | null
  description: string
  tags: string[]
  origin: string
  created_at: Timestamp
  updated_at: Timestamp
  deleted_at: Timestamp | null
  /** Versions registered and not purged. */
  version_count: number
  /** The highest version number ever registered (numbers are never reused). */
  latest_version: number | null
}

export type ModelRow = Selectable<ModelsTable>
export type NewModelRow = Insertable<ModelsTable>
