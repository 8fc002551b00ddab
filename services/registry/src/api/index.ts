import type { FastifyInstance } from 'fastify'
import type { RegistryDeps } from '../application/dependencies.ts'
import { registerAliasRoutes } from './aliases.routes.ts'
import { registerModelRoutes } from './models.routes.ts'
import type { WaitForPosition } from './read-your-writes.ts'
import { registerReleaseRoutes } from './releases.routes.ts'
import { registerUploadRoutes } from './uploads.routes.ts'
import { registerVersionRoutes } from './versions.routes.ts'

export type { WaitForPosition } from './read-your-writes.ts'
export { MIN_POSITION_HEADER } from './read-your-writes.ts'
export { registryRoutes, type RegistryRoutes } from './contract.ts'

/** Every `/v1/models` route, on an app built by @argmax/http's createServiceApp. */
export function registerRegistryApi(
  app: FastifyInstance,
  deps: RegistryDeps,
  waitForPosition: WaitForPosition,
): void {
  registerModelRoutes(app, deps, waitForPosition)
  registerVersionRoutes(app, deps, waitForPosition)
  registerUploadRoutes(app, deps, waitForPosition)
  registerAliasRoutes(app, deps, waitForPosition)
  registerReleaseRoutes(app, deps, waitForPosition)
}
