import type { ProjectionRegistration, ServiceProjections } from '@argmax/projections'
import type { ReadJsonDocument } from '../application/json-documents.ts'
import { datasetUpcast } from '../domain/upcasters.ts'
import { datasetMigrations } from '../migrations/index.ts'
import { DATASET_STREAM_NAMES, type StreamNames } from '../streams.ts'
import { catalogProjection, truncateCatalog } from './catalog.projection.ts'
import type { DatasetDatabase } from './database.ts'

/**
 * The dataset service's read models, by name (the name is also their /readyz check). The
 * catalog reads validated versions' stored schemas and profiles through `readDocument` (S3).
 */
export function datasetProjectionsOf(
  names: StreamNames,
  readDocument: ReadJsonDocument,
): Record<'catalog', ProjectionRegistration<DatasetDatabase>> {
  return {
    catalog: {
      projection: catalogProjection(readDocument),
      stream: names.stream,
      truncate: truncateCatalog,
      upcast: datasetUpcast,
    },
  }
}

/** The same projections, for tools that rebuild them (`argmax projections`). */
export function datasetProjections(
  readDocument: ReadJsonDocument,
): ServiceProjections<DatasetDatabase> {
  return {
    service: 'dataset',
    schema: 'dataset',
    migrations: datasetMigrations,
    projections: Object.values(datasetProjectionsOf(DATASET_STREAM_NAMES, readDocument)),
  }
}
