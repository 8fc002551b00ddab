import { startServiceShell, type ServiceStartOptions } from '@argmax/service'
import { registryMigrations } from './migrations/index.ts'
import { REGISTRY_STREAM, registryStreams } from './streams.ts'

/**
 * The registry service as it stands: its stream, its schema and the HTTP shell. Its domain
 * arrives with its issue; until then it serves only the operational endpoints.
 */
export function startRegistryService(options: ServiceStartOptions) {
  return startServiceShell({
    ...options,
    service: 'registry',
    description: 'Models, model versions, aliases, releases and canary rollouts',
    streams: registryStreams,
    readinessStream: REGISTRY_STREAM,
    migrations: registryMigrations,
  })
}
