import type { Migration } from 'kysely'
import * as aggregateCounts from './migrations/2026_11_23_21_10_00_aggregate_counts.ts'

export * from './aggregate-counts.table.ts'
export * from './aggregate-counts.projection.ts'

/** The example's migrations, as a service would declare its own. */
export const exampleMigrations: Record<string, Migration> = {
  '2026_11_23_21_10_00_aggregate_counts': aggregateCounts,
}
