import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '@argmax/errors'
import {
  idempotencyKeyOf,
  requestedPosition,
  requestPrincipal,
  serveRoute,
  type WaitForPosition,
} from '@argmax/http'
import { listingOwner } from '../application/access.ts'
import { createModel } from '../application/create-model.ts'
import { deleteModel } from '../application/delete-model.ts'
import type { RegistryDeps } from '../application/dependencies.ts'
import { restoreModel } from '../application/restore-model.ts'
import { updateModel } from '../application/update-model.ts'
import { findModel, listModels, refusedRuns } from '../projections/catalog.queries.ts'
import { DEFAULT_PAGE_SIZE, registryRoutes } from './contract.ts'
import { visibleModel } from './read-your-writes.ts'

export function registerModelRoutes(
  app: FastifyInstance,
  deps: RegistryDeps,
  waitForPosition: WaitForPosition,
): void {
  /** The model as the read model has it once `position` is applied: the reply of commands. */
  async function viewAt(name: string, position: number) {
    await waitForPosition(position)
    const view = await findModel(deps.db, name)
    if (!view) throw new NotFoundError('model', name)
    return view
  }

  serveRoute(app, registryRoutes, 'createModel', async (request, reply) => {
    const principal = requestPrincipal(request)
    const { position } = await createModel(deps, principal, request.body, idempotencyKeyOf(request))
    const model = await viewAt(request.body.name, position)
    reply.code(201).header('location', `/v1/models/${model.name}`)
    return { position, model }
  })

  serveRoute(app, registryRoutes, 'listModels', async (request) => {
    // A listing is filtered by owner, never refused: nothing to check before waiting.
    const position = requestedPosition(request)
    if (position > 0) await waitForPosition(position)
    const { name, tag, cursor, limit, includeDeleted } = request.query
    const ownerId = listingOwner(requestPrincipal(request))
    return listModels(deps.db, {
      ...(ownerId !== undefined ? { ownerId } : {}),
      ...(name ? { name } : {}),
      ...(tag ? { tag } : {}),
      ...(cursor ? { cursor } : {}),
      includeDeleted: includeDeleted ?? false,
      limit: limit ?? DEFAULT_PAGE_SIZE,
    })
  })

  serveRoute(app, registryRoutes, 'getModel', async (request) => {
    const { name } = request.params
    const principal = requestPrincipal(request)
    const model = await visibleModel(
      deps,
      principal,
      name,
      requestedPosition(request),
      waitForPosition,
    )
    return { ...model, refusedRuns: await refusedRuns(deps.db, name) }
  })

  serveRoute(app, registryRoutes, 'updateModel', async (request) => {
    const { name } = request.params
    const { position } = await updateModel(deps, requestPrincipal(request), name, request.body)
    return { position, model: await viewAt(name, position) }
  })

  serveRoute(app, registryRoutes, 'deleteModel', async (request) => {
    const { name } = request.params
    const { position, state } = await deleteModel(deps, requestPrincipal(request), name)
    return { position, name, deletedAt: state.deletedAt }
  })

  serveRoute(app, registryRoutes, 'restoreModel', async (request) => {
    const { name } = request.params
    const { position } = await restoreModel(deps, requestPrincipal(request), name)
    return { position, model: await viewAt(name, position) }
  })
}
