import { createApiClient, type ApiClient, type ApiClientOptions } from '@argmax/http/client'
import { datasetRoutes, type DatasetRoutes } from './api/contract.ts'

/**
 * The dataset API's typed client (`@argmax/dataset-service/client`): one method per route of
 * the contract, e.g. `createDataset({ body })`, `getVersion({ params, query })`. Imports no
 * server code, so the CLI, the console and tests can use it.
 */
export type DatasetClient = ApiClient<DatasetRoutes>

export function createDatasetClient(options: ApiClientOptions): DatasetClient {
  return createApiClient(datasetRoutes, options)
}

export { ApiError, type ApiClientOptions } from '@argmax/http/client'
export type {
  ColumnProfile,
  ColumnSchema,
  DatasetProfile,
  DatasetView,
  UploadView,
  VersionIssue,
  VersionStatus,
  VersionView,
} from './api/contract.ts'
