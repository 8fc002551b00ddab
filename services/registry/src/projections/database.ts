import type { AliasHistoryTable, ModelAliasesTable } from './aliases.table.ts'
import type { ModelUploadsTable } from './model-uploads.table.ts'
import type { ModelVersionsTable } from './model-versions.table.ts'
import type { ModelsTable } from './models.table.ts'
import type { RegistrationRefusalsTable } from './registration-refusals.table.ts'
import type { ReleaseHistoryTable, ReleasesTable } from './releases.table.ts'
import type { SignatureCacheTable } from './signature-cache.table.ts'
import type { VersionAnnotationsTable } from './version-annotations.table.ts'

/**
 * The registry's own Postgres schema (`registry`): the catalog projection (rebuildable from
 * the REGISTRY stream) and the signature cache.
 */
export interface RegistryDatabase {
  models: ModelsTable
  model_versions: ModelVersionsTable
  version_annotations: VersionAnnotationsTable
  model_aliases: ModelAliasesTable
  alias_history: AliasHistoryTable
  releases: ReleasesTable
  release_history: ReleaseHistoryTable
  registration_refusals: RegistrationRefusalsTable
  model_uploads: ModelUploadsTable
  signature_cache: SignatureCacheTable
}

/** The projection's tables, emptied by a rebuild (the signature cache is not one of them). */
export const CATALOG_TABLES = [
  'models',
  'model_versions',
  'version_annotations',
  'model_aliases',
  'alias_history',
  'releases',
  'release_history',
  'registration_refusals',
  'model_uploads',
] as const satisfies ReadonlyArray<keyof RegistryDatabase>
