import type { Migration } from 'kysely'
import { catalog } from './2026_01_01_00_00_00_catalog.ts'

/** Applied in name order by the migrator at start-up. */
export const datasetMigrations: Record<string, Migration> = {
  '2026_01_01_00_00_00_catalog': catalog,
}
