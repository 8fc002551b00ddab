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
import { createDataset } from '../application/create-dataset.ts'
import { deleteDataset } from '../application/delete-dataset.ts'
import type { DatasetDeps } from '../application/dependencies.ts'
import { updateDataset } from '../application/update-dataset.ts'
import { findDataset, listDatasets } from '../projections/catalog.queries.ts'
import { DEFAULT_PAGE_SIZE, datasetRoutes } from './contract.ts'
import { visibleDataset } from './read-your-writes.ts'

export function registerDatasetRoutes(
  app: FastifyInstance,
  deps: DatasetDeps,
  waitForPosition: WaitForPosition,
): void {
  /** The dataset as the read model has it once `position` is applied: the reply of commands. */
  async function viewAt(datasetId: string, position: number) {
    await waitForPosition(position)
    const view = await findDataset(deps.db, datasetId)
    if (!view) throw new NotFoundError('dataset', datasetId)
    return view
  }

  serveRoute(app, datasetRoutes, 'createDataset', async (request, reply) => {
    const principal = requestPrincipal(request)
    const { datasetId, position } = await createDataset(
      deps,
      principal,
      request.body,
      idempotencyKeyOf(request),
    )
    const dataset = await viewAt(datasetId, position)
    reply.code(201).header('location', `/v1/datasets/${datasetId}`)
    return { id: datasetId, position, dataset }
  })

  serveRoute(app, datasetRoutes, 'listDatasets', async (request) => {
    // A listing is filtered by owner, never refused: nothing to check before waiting.
    const position = requestedPosition(request)
    if (position > 0) await waitForPosition(position)
    const { name, tag, cursor, limit } = request.query
    const ownerId = listingOwner(requestPrincipal(request))
    return listDatasets(deps.db, {
      ...(ownerId !== undefined ? { ownerId } : {}),
      ...(name ? { name } : {}),
      ...(tag ? { tag } : {}),
      ...(cursor ? { cursor } : {}),
      limit: limit ?? DEFAULT_PAGE_SIZE,
    })
  })

  serveRoute(app, datasetRoutes, 'getDataset', async (request) => {
    const { datasetId } = request.params
    const position = requestedPosition(request)
    return visibleDataset(deps, requestPrincipal(request), datasetId, position, waitForPosition)
  })

  serveRoute(app, datasetRoutes, 'updateDataset', async (request) => {
    const { datasetId } = request.params
    const { position } = await updateDataset(
      deps,
      requestPrincipal(request),
      datasetId,
      request.body,
    )
    return { position, dataset: await viewAt(datasetId, position) }
  })

  serveRoute(app, datasetRoutes, 'deleteDataset', async (request) => {
    const { datasetId } = request.params
    const { position, state } = await deleteDataset(deps, requestPrincipal(request), datasetId)
    return {
      id: datasetId,
      deletedAt: state.status === 'absent' ? null : state.deletedAt,
      position,
    }
  })
}
