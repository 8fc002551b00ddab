import type { FastifyInstance } from 'fastify'
import { requestedPosition, requestPrincipal, serveRoute, type WaitForPosition } from '@argmax/http'
import { changeRelease, rollbackRelease } from '../application/change-release.ts'
import type { RegistryDeps } from '../application/dependencies.ts'
import { findRelease, releaseHistory } from '../projections/catalog.queries.ts'
import { registryRoutes } from './contract.ts'
import { visibleModel } from './read-your-writes.ts'

export function registerReleaseRoutes(
  app: FastifyInstance,
  deps: RegistryDeps,
  waitForPosition: WaitForPosition,
): void {
  serveRoute(app, registryRoutes, 'getRelease', async (request) => {
    const { name } = request.params
    await visibleModel(
      deps,
      requestPrincipal(request),
      name,
      requestedPosition(request),
      waitForPosition,
    )
    return findRelease(deps.db, name)
  })

  serveRoute(app, registryRoutes, 'setRelease', async (request) => {
    const { name } = request.params
    const { reason, breaking, stable, canary, shadow } = request.body
    const { position } = await changeRelease(deps, requestPrincipal(request), name, {
      stable,
      reason,
      ...(canary ? { canary } : {}),
      ...(shadow !== undefined ? { shadow } : {}),
      ...(breaking !== undefined ? { breaking } : {}),
    })
    await waitForPosition(position)
    return { position, release: await findRelease(deps.db, name) }
  })

  serveRoute(app, registryRoutes, 'listReleases', async (request) => {
    const { name } = request.params
    await visibleModel(
      deps,
      requestPrincipal(request),
      name,
      requestedPosition(request),
      waitForPosition,
    )
    return { items: await releaseHistory(deps.db, name, request.query.limit ?? 100) }
  })

  serveRoute(app, registryRoutes, 'rollbackRelease', async (request) => {
    const { name } = request.params
    const { position } = await rollbackRelease(
      deps,
      requestPrincipal(request),
      name,
      request.body.reason,
    )
    await waitForPosition(position)
    return { position, release: await findRelease(deps.db, name) }
  })
}
