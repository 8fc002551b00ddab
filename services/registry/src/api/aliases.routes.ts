import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '@argmax/errors'
import { requestedPosition, requestPrincipal, serveRoute, type WaitForPosition } from '@argmax/http'
import { removeAlias, setAlias } from '../application/aliases.ts'
import type { RegistryDeps } from '../application/dependencies.ts'
import { aliasHistory, listAliases } from '../projections/catalog.queries.ts'
import { registryRoutes } from './contract.ts'
import { visibleModel } from './read-your-writes.ts'

export function registerAliasRoutes(
  app: FastifyInstance,
  deps: RegistryDeps,
  waitForPosition: WaitForPosition,
): void {
  serveRoute(app, registryRoutes, 'listAliases', async (request) => {
    const { name } = request.params
    await visibleModel(
      deps,
      requestPrincipal(request),
      name,
      requestedPosition(request),
      waitForPosition,
    )
    return { items: await listAliases(deps.db, name) }
  })

  serveRoute(app, registryRoutes, 'setAlias', async (request) => {
    const { name, alias } = request.params
    const { position } = await setAlias(
      deps,
      requestPrincipal(request),
      name,
      alias,
      request.body.version,
    )
    await waitForPosition(position)
    const view = (await listAliases(deps.db, name)).find((a) => a.alias === alias)
    if (!view) throw new NotFoundError('alias', `${name}/${alias}`)
    return { position, alias: view }
  })

  serveRoute(app, registryRoutes, 'removeAlias', async (request) => {
    const { name, alias } = request.params
    const { position } = await removeAlias(deps, requestPrincipal(request), name, alias)
    return { position, alias }
  })

  serveRoute(app, registryRoutes, 'aliasHistory', async (request) => {
    const { name, alias } = request.params
    await visibleModel(
      deps,
      requestPrincipal(request),
      name,
      requestedPosition(request),
      waitForPosition,
    )
    return { items: await aliasHistory(deps.db, name, alias, request.query.limit ?? 100) }
  })
}
