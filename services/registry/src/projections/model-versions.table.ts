import type { Insertable, Selectable } from 'kysely'
import type { BigIntColumn, JsonColumn, Timestamp } from './column-types.ts'

/** One row per registered version; the columns hold the registration event's data. */
export interface ModelVersionsTable {
  model: string
  version: number
  owner_id: string
  task: string
  artifact: JsonColumn
  signature_ref: JsonColumn
  artifacts: JsonColumn
  metrics: JsonColumn
  params: JsonColumn | null
  params_omitted: boolean
  trainer: JsonColumn | null
  libraries: JsonColumn | null
  target: string | null
  seed: BigIntColumn | null
  description: string | null
  source: JsonColumn
  lineage: JsonColumn
  registered_at: Timestamp
  registered_by: string
  deleted_at: Timestamp | null
}

export type ModelVersionRow = Selectable<ModelVersionsTable>
export type NewModelVersionRow = Insertable<ModelVersionsTable>
