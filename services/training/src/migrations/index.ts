import type { Migration } from 'kysely'
import { runs } from './2026_03_01_00_00_00_runs.ts'
import { pipelines } from './2026_12_01_00_00_00_pipelines.ts'
import { registryVersions } from './2026_12_02_00_00_00_registry_versions.ts'
import { registryVersionLineage } from './2026_12_03_00_00_00_registry_version_lineage.ts'

/**
 * The training schema's migrations, applied in name order at start-up (the projection
 * checkpoint table comes with @argmax/projections' own migration).
 */
export const trainingMigrations: Record<string, Migration> = {
  '2026_03_01_00_00_00_runs': runs,
  '2026_12_01_00_00_00_pipelines': pipelines,
  '2026_12_02_00_00_00_registry_versions': registryVersions,
  '2026_12_03_00_00_00_registry_version_lineage': registryVersionLineage,
}
