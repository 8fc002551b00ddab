import {
  startServiceShell,
  type ServiceDefinition,
  type ServiceStartOptions,
} from '@argmax/service'
import { registryMigrations } from './migrations/index.ts'
import { REGISTRY_STREAM, registryStreams } from './streams.ts'

/**
 * The registry service as declared to the shell: its stream, its schema and the HTTP shell. Its
 * domain arrives with its issue and fills the other slots of the definition (projections,
 * dependencies, api, workers — see services/dataset/src/service.ts); until then it serves only
 * the operational endpoints.
 */
export const registryService: ServiceDefinition<unknown> = {
  service: 'registry',
  description: 'Models, model versions, aliases, releases and canary rollouts',
  streams: registryStreams,
  readinessStream: REGISTRY_STREAM,
  migrations: registryMigrations,
}

export function startRegistryService(options: ServiceStartOptions) {
  return startServiceShell(registryService, options)
}
