import type { Migration } from 'kysely'
import * as projectionCheckpoints from './2026_11_23_21_00_00_projection_checkpoints.ts'

/** This package's own tables; migrateToLatest runs them in every service schema. */
export const projectionMigrations: Record<string, Migration> = {
  '2026_11_23_21_00_00_projection_checkpoints': projectionCheckpoints,
}
