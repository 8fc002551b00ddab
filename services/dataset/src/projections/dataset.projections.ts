import type { ProjectionRegistration, ServiceProjections } from '@argmax/projections'
import { datasetMigrations } from '../migrations/index.ts'
import { DATASET_STREAM_NAMES, type StreamNames } from '../streams.ts'
import { catalogProjection, truncateCatalog } from './catalog.projection.ts'
import type { DatasetDatabase } from './database.ts'

/** The dataset service's read models, by name (the name is also their /readyz check). */
export function datasetProjectionsOf(
  names: StreamNames,
): Record<'catalog', ProjectionRegistration<DatasetDatabase>> {
  return {
    catalog: { projection: catalogProjection, stream: names.stream, truncate: truncateCatalog },
  }
}

/** The same projections, for tools that rebuild them (`argmax projections`). */
export const datasetProjections: ServiceProjections<DatasetDatabase> = {
  service: 'dataset',
  schema: 'dataset',
  migrations: datasetMigrations,
  projections: Object.values(datasetProjectionsOf(DATASET_STREAM_NAMES)),
}
