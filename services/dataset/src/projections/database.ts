import type { DatasetVersionsTable } from './dataset-versions.table.ts'
import type { DatasetsTable } from './datasets.table.ts'
import type { UploadPartsTable } from './upload-parts.table.ts'

/** The dataset service's own Postgres schema (`dataset`): projections only, all rebuildable. */
export interface DatasetDatabase {
  datasets: DatasetsTable
  dataset_versions: DatasetVersionsTable
  upload_parts: UploadPartsTable
}
