import type { Selectable } from 'kysely'
import type { BigIntColumn, Timestamp } from './column-types.ts'

/** Where each alias points now. */
export interface ModelAliasesTable {
  model: string
  alias: string
  version: number
  updated_at: Timestamp
  updated_by: string
}

/** Every move of every alias, in stream order (`version` null: removed). */
export interface AliasHistoryTable {
  sequence: BigIntColumn
  model: string
  alias: string
  version: number | null
  previous: number | null
  reason: string
  at: Timestamp
  actor: string
}

export type ModelAliasRow = Selectable<ModelAliasesTable>
export type AliasHistoryRow = Selectable<AliasHistoryTable>
