import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '@argmax/errors'
import { requestPrincipal } from '@argmax/http'
import { assertCanRead, listingOwner } from '../application/access.ts'
import { createDataset, type CreateDatasetInput } from '../application/create-dataset.ts'
import { deleteDataset } from '../application/delete-dataset.ts'
import type { DatasetDeps } from '../application/dependencies.ts'
import { updateDataset, type UpdateDatasetInput } from '../application/update-dataset.ts'
import { findDataset, listDatasets } from '../projections/catalog.queries.ts'
import { awaitRequestedPosition, type WaitForPosition } from './read-your-writes.ts'
import {
  createDatasetBody,
  datasetParams,
  listDatasetsQuery,
  updateDatasetBody,
  versionQuery,
} from './schemas.ts'

type Params = { datasetId: string }

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

  app.post(
    '/v1/datasets',
    { schema: { tags: ['datasets'], summary: 'Create a dataset', body: createDatasetBody } },
    async (request, reply) => {
      const principal = requestPrincipal(request)
      const { datasetId, position } = await createDataset(
        deps,
        principal,
        request.body as CreateDatasetInput,
      )
      const dataset = await viewAt(datasetId, position)
      reply.code(201).header('location', `/v1/datasets/${datasetId}`)
      return { id: datasetId, position, dataset }
    },
  )

  app.get(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'List the datasets you can see, newest first',
        querystring: listDatasetsQuery,
      },
    },
    async (request) => {
      await awaitRequestedPosition(request, waitForPosition)
      const query = request.query as { name?: string; tag?: string; cursor?: string; limit: number }
      const ownerId = listingOwner(requestPrincipal(request))
      return listDatasets(deps.db, {
        ...(ownerId !== undefined ? { ownerId } : {}),
        ...(query.name ? { name: query.name } : {}),
        ...(query.tag ? { tag: query.tag } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
        limit: query.limit,
      })
    },
  )

  app.get(
    '/v1/datasets/:datasetId',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Get a dataset',
        params: datasetParams,
        querystring: versionQuery,
      },
    },
    async (request) => {
      await awaitRequestedPosition(request, waitForPosition)
      const { datasetId } = request.params as Params
      const view = await findDataset(deps.db, datasetId)
      if (!view) throw new NotFoundError('dataset', datasetId)
      assertCanRead(requestPrincipal(request), view.ownerId, 'dataset', datasetId)
      return view
    },
  )

  app.patch(
    '/v1/datasets/:datasetId',
    {
      schema: {
        tags: ['datasets'],
        summary: "Change a dataset's name, description or tags",
        params: datasetParams,
        body: updateDatasetBody,
      },
    },
    async (request) => {
      const { datasetId } = request.params as Params
      const { position } = await updateDataset(
        deps,
        requestPrincipal(request),
        datasetId,
        request.body as UpdateDatasetInput,
      )
      return { position, dataset: await viewAt(datasetId, position) }
    },
  )

  app.delete(
    '/v1/datasets/:datasetId',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Delete a dataset (soft; files are purged after the retention period)',
        params: datasetParams,
      },
    },
    async (request) => {
      const { datasetId } = request.params as Params
      const { position, state } = await deleteDataset(deps, requestPrincipal(request), datasetId)
      return {
        id: datasetId,
        deletedAt: state.status === 'absent' ? null : state.deletedAt,
        position,
      }
    },
  )
}
