import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '@argmax/errors'
import { requestPrincipal } from '@argmax/http'
import { assertCanRead } from '../application/access.ts'
import type { DatasetDeps } from '../application/dependencies.ts'
import { downloadLink } from '../application/download-link.ts'
import { findDataset, findVersion, listVersions } from '../projections/catalog.queries.ts'
import { awaitRequestedPosition, type WaitForPosition } from './read-your-writes.ts'
import { datasetParams, listVersionsQuery, versionParams, versionQuery } from './schemas.ts'

type VersionParams = { datasetId: string; versionId: string }

export function registerVersionRoutes(
  app: FastifyInstance,
  deps: DatasetDeps,
  waitForPosition: WaitForPosition,
): void {
  app.get(
    '/v1/datasets/:datasetId/versions',
    {
      schema: {
        tags: ['versions'],
        summary: "A dataset's versions, newest first",
        params: datasetParams,
        querystring: listVersionsQuery,
      },
    },
    async (request) => {
      await awaitRequestedPosition(request, waitForPosition)
      const { datasetId } = request.params as { datasetId: string }
      const dataset = await findDataset(deps.db, datasetId)
      if (!dataset) throw new NotFoundError('dataset', datasetId)
      assertCanRead(requestPrincipal(request), dataset.ownerId, 'dataset', datasetId)
      const { status } = request.query as { status?: string }
      return { items: await listVersions(deps.db, datasetId, status) }
    },
  )

  app.get(
    '/v1/datasets/:datasetId/versions/:versionId',
    {
      schema: {
        tags: ['versions'],
        summary: 'A version: status, schema, profile, errors',
        params: versionParams,
        querystring: versionQuery,
      },
    },
    async (request) => {
      await awaitRequestedPosition(request, waitForPosition)
      const { datasetId, versionId } = request.params as VersionParams
      const version = await findVersion(deps.db, versionId)
      if (!version || version.datasetId !== datasetId) throw new NotFoundError('version', versionId)
      const dataset = await findDataset(deps.db, datasetId)
      if (!dataset) throw new NotFoundError('version', versionId)
      assertCanRead(requestPrincipal(request), dataset.ownerId, 'version', versionId)
      return version
    },
  )

  app.get(
    '/v1/datasets/:datasetId/versions/:versionId/download',
    {
      schema: {
        tags: ['versions'],
        summary: "A presigned URL for a validated version's file",
        params: versionParams,
      },
    },
    async (request) => {
      const { datasetId, versionId } = request.params as VersionParams
      return downloadLink(deps, requestPrincipal(request), datasetId, versionId)
    },
  )
}
