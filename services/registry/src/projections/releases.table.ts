import type { Selectable } from 'kysely'
import type { BigIntColumn, JsonColumn, Timestamp } from './column-types.ts'

/** Each model's current release (`release` null: it serves nothing). */
export interface ReleasesTable {
  model: string
  release: JsonColumn | null
  /** The REGISTRY sequence of the ReleaseChanged that made it (what inference logs). */
  sequence: BigIntColumn
  kind: string
  reason: string
  changed_at: Timestamp
  changed_by: string
}

/** Every ReleaseChanged, by its sequence. */
export interface ReleaseHistoryTable {
  sequence: BigIntColumn
  model: string
  release: JsonColumn | null
  previous: JsonColumn | null
  kind: string
  reason: string
  breaking: boolean
  changed_at: Timestamp
  changed_by: string
}

export type ReleaseRow = Selectable<ReleasesTable>
export type ReleaseHistoryRow = Selectable<ReleaseHistoryTable>
