import type { FastifyInstance } from 'fastify'
import type { DatasetDeps } from '../application/dependencies.ts'
import { registerDatasetRoutes } from './datasets.routes.ts'
import type { WaitForPosition } from '@argmax/http'
import { registerUploadRoutes } from './uploads.routes.ts'
import { registerVersionRoutes } from './versions.routes.ts'

export type { WaitForPosition } from '@argmax/http'
export { datasetRoutes, type DatasetRoutes } from './contract.ts'

/** Every `/v1/datasets` route, on an app built by @argmax/http's createServiceApp. */
export function registerDatasetApi(
  app: FastifyInstance,
  deps: DatasetDeps,
  waitForPosition: WaitForPosition,
): void {
  registerDatasetRoutes(app, deps, waitForPosition)
  registerUploadRoutes(app, deps)
  registerVersionRoutes(app, deps, waitForPosition)
}
