import type { ColumnType, Insertable, Selectable } from 'kysely'
import type { ProjectionsTables } from '../checkpoints.table.ts'

/** Per aggregate: how many items were added and removed, and the last event that touched it. */
export interface AggregateCountsTable {
  aggregate_id: string
  added: number
  removed: number
  /** bigint: node-postgres returns it as a string. */
  last_sequence: ColumnType<string, number, number>
  last_event_type: string
}

export type AggregateCountsRow = Selectable<AggregateCountsTable>
export type NewAggregateCounts = Insertable<AggregateCountsTable>

export interface ExampleDB extends ProjectionsTables {
  aggregate_counts: AggregateCountsTable
}
