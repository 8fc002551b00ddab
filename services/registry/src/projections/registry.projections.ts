import type { ProjectionRegistration, ServiceProjections } from '@argmax/projections'
import { registryMigrations } from '../migrations/index.ts'
import { REGISTRY_STREAM_NAMES, type StreamNames } from '../streams.ts'
import { catalogProjection, truncateCatalog } from './catalog.projection.ts'
import type { RegistryDatabase } from './database.ts'

/** The registry's read models, by name (the name is also their /readyz check). */
export function registryProjectionsOf(
  names: StreamNames,
): Record<'catalog', ProjectionRegistration<RegistryDatabase>> {
  return {
    catalog: { projection: catalogProjection, stream: names.stream, truncate: truncateCatalog },
  }
}

/** The same projections, for tools that rebuild them (`argmax projections`). */
export const registryProjections: ServiceProjections<RegistryDatabase> = {
  service: 'registry',
  schema: 'registry',
  migrations: registryMigrations,
  projections: Object.values(registryProjectionsOf(REGISTRY_STREAM_NAMES)),
}
