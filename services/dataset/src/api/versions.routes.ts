import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '@argmax/errors'
import { requestedPosition, requestPrincipal, serveRoute, type WaitForPosition } from '@argmax/http'
import { assertCanRead } from '../application/access.ts'
import type { DatasetDeps } from '../application/dependencies.ts'
import { downloadLink } from '../application/download-link.ts'
import { accessibleVersion } from '../application/version-access.ts'
import { findDataset, findVersion, listVersions } from '../projections/catalog.queries.ts'
import { datasetRoutes } from './contract.ts'
import { visibleDataset } from './read-your-writes.ts'

export function registerVersionRoutes(
  app: FastifyInstance,
  deps: DatasetDeps,
  waitForPosition: WaitForPosition,
): void {
  serveRoute(app, datasetRoutes, 'listVersions', async (request) => {
    const { datasetId } = request.params
    const position = requestedPosition(request)
    await visibleDataset(deps, requestPrincipal(request), datasetId, position, waitForPosition)
    return { items: await listVersions(deps.db, datasetId, request.query.status) }
  })

  serveRoute(app, datasetRoutes, 'getVersion', async (request) => {
    const { datasetId, versionId } = request.params
    const principal = requestPrincipal(request)
    const position = requestedPosition(request)
    if (position > 0) {
      // Access first, from the events (see visibleDataset): a refusal does not wait.
      await accessibleVersion(deps, principal, datasetId, versionId, 'read')
      await waitForPosition(position)
    }
    const version = await findVersion(deps.db, versionId)
    if (!version || version.datasetId !== datasetId) throw new NotFoundError('version', versionId)
    const dataset = await findDataset(deps.db, datasetId)
    if (!dataset) throw new NotFoundError('version', versionId)
    assertCanRead(principal, dataset.ownerId, 'version', versionId)
    return version
  })

  serveRoute(app, datasetRoutes, 'downloadVersion', async (request) => {
    const { datasetId, versionId } = request.params
    return downloadLink(deps, requestPrincipal(request), datasetId, versionId)
  })
}
