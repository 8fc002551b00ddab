import type { Selectable } from 'kysely'
import type { BigIntColumn, JsonColumn, Timestamp } from './column-types.ts'

/**
 * One row per rollout: what listings filter on, and `state` (the domain's `Rollout`, folded
 * from its events). `last_sequence` makes applying an event twice a no-op.
 */
export interface RolloutsTable {
  rollout_id: string
  model: string
  candidate: number
  stable: number
  status: string
  step: number
  percent: number
  started_by: string
  started_at: Timestamp
  updated_at: Timestamp
  ended_at: Timestamp | null
  state: JsonColumn
  last_sequence: BigIntColumn
}

export type RolloutRow = Selectable<RolloutsTable>
