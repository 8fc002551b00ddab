import type { FastifyInstance } from 'fastify'
import { idempotencyKeyOf, requestPrincipal, serveRoute } from '@argmax/http'
import { abortUpload } from '../application/abort-upload.ts'
import { completeUpload } from '../application/complete-upload.ts'
import type { DatasetDeps } from '../application/dependencies.ts'
import { getUpload } from '../application/get-upload.ts'
import { startUpload } from '../application/start-upload.ts'
import { presignParts, recordParts } from '../application/upload-parts.ts'
import { accessibleVersion } from '../application/version-access.ts'
import { publicStatus } from '../domain/index.ts'
import { datasetRoutes } from './contract.ts'

/**
 * The upload protocol: start (declare the file) → presigned part URLs → the client PUTs each
 * part straight to S3 and records its ETag → complete. GET the upload to resume; DELETE it to
 * abort. The upload id is the id of the version it creates.
 */
export function registerUploadRoutes(app: FastifyInstance, deps: DatasetDeps): void {
  serveRoute(app, datasetRoutes, 'startUpload', async (request, reply) => {
    const principal = requestPrincipal(request)
    const { datasetId } = request.params
    const { versionId, position } = await startUpload(
      deps,
      principal,
      datasetId,
      request.body,
      idempotencyKeyOf(request),
    )
    reply.code(201).header('location', `/v1/datasets/${datasetId}/uploads/${versionId}`)
    return { ...(await getUpload(deps, principal, datasetId, versionId)), position }
  })

  serveRoute(app, datasetRoutes, 'getUpload', async (request) => {
    const { datasetId, uploadId } = request.params
    return getUpload(deps, requestPrincipal(request), datasetId, uploadId)
  })

  serveRoute(app, datasetRoutes, 'presignParts', async (request) => {
    const { datasetId, uploadId } = request.params
    const { partNumbers } = request.body
    return presignParts(deps, requestPrincipal(request), datasetId, uploadId, partNumbers)
  })

  serveRoute(app, datasetRoutes, 'recordParts', async (request) => {
    const { datasetId, uploadId } = request.params
    return recordParts(deps, requestPrincipal(request), datasetId, uploadId, request.body.parts)
  })

  serveRoute(app, datasetRoutes, 'recordPart', async (request) => {
    const { datasetId, uploadId, partNumber } = request.params
    const { etag } = request.body
    return recordParts(deps, requestPrincipal(request), datasetId, uploadId, [{ partNumber, etag }])
  })

  serveRoute(app, datasetRoutes, 'completeUpload', async (request, reply) => {
    const { datasetId, uploadId } = request.params
    const { position, state } = await completeUpload(
      deps,
      requestPrincipal(request),
      datasetId,
      uploadId,
      request.body.parts,
    )
    reply.code(202)
    return {
      versionId: uploadId,
      status: state.status === 'absent' ? null : publicStatus(state.status),
      position,
    }
  })

  serveRoute(app, datasetRoutes, 'abortUpload', async (request) => {
    const { datasetId, uploadId } = request.params
    const principal = requestPrincipal(request)
    const { version } = await accessibleVersion(deps, principal, datasetId, uploadId, 'write')
    const { position, state } = await abortUpload(deps, principal, version, 'client')
    return {
      versionId: uploadId,
      status: state.status === 'absent' ? null : publicStatus(state.status),
      position,
    }
  })
}
