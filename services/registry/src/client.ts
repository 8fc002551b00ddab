import { createApiClient, type ApiClient, type ApiClientOptions } from '@argmax/http/client'
import { registryRoutes, type RegistryRoutes } from './api/contract.ts'

/**
 * The registry API's typed client (`@argmax/registry-service/client`): one method per route of
 * the contract, e.g. `getVersion({ params: { name, version: 'champion' } })`,
 * `setRelease({ params, body })`. Imports no server code, so the CLI, the console and tests can
 * use it.
 */
export type RegistryClient = ApiClient<RegistryRoutes>

export function createRegistryClient(options: ApiClientOptions): RegistryClient {
  return createApiClient(registryRoutes, options)
}

export { ApiError, type ApiClientOptions } from '@argmax/http/client'
export type {
  AliasHistoryEntry,
  AliasView,
  Annotation,
  LineageTree,
  ModelDetails,
  ModelView,
  RefusedRun,
  ReleaseChange,
  ReleaseView,
  UploadView,
  VersionDetails,
  VersionList,
  VersionView,
} from './api/contract.ts'
