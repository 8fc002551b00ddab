import type { ServiceProjections } from '@argmax/projections'
import { DATASET_STREAM_NAMES } from '../streams.ts'
import { catalogProjection, truncateCatalog } from './catalog.projection.ts'
import type { DatasetDatabase } from './database.ts'
import { datasetMigrations } from './migrations/index.ts'

/** The dataset service's projections, for tools that rebuild them (`argmax projections`). */
export const datasetProjections: ServiceProjections<DatasetDatabase> = {
  service: 'dataset',
  schema: 'dataset',
  migrations: datasetMigrations,
  projections: [
    {
      projection: catalogProjection,
      stream: DATASET_STREAM_NAMES.stream,
      truncate: truncateCatalog,
    },
  ],
}
