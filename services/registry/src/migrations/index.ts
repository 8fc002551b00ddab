import type { Migration } from 'kysely'
import { catalog } from './2026_03_01_00_00_00_catalog.ts'

/** Applied in name order by the migrator at start-up (with @argmax/projections' checkpoints). */
export const registryMigrations: Record<string, Migration> = {
  '2026_03_01_00_00_00_catalog': catalog,
}
