import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '@argmax/errors'
import { idempotencyKeyOf, requestPrincipal, serveRoute } from '@argmax/http'
import { abortUpload, accessibleUpload, completeUpload } from '../application/complete-upload.ts'
import type { RegistryDeps } from '../application/dependencies.ts'
import { startUpload } from '../application/start-upload.ts'
import type { ExistingUpload } from '../domain/index.ts'
import { findVersion } from '../projections/catalog.queries.ts'
import { registryRoutes, type UploadView } from './contract.ts'
import type { WaitForPosition } from './read-your-writes.ts'

/** An upload as its events have it (never behind, unlike the read model). */
function uploadView(upload: ExistingUpload, position: number): UploadView {
  return {
    uploadId: upload.uploadId,
    model: upload.model,
    status: upload.status,
    ownerId: upload.ownerId,
    size: upload.size,
    sha256: upload.sha256 ?? null,
    signatureRef: upload.signature,
    version: upload.version,
    startedAt: upload.startedAt,
    position,
  }
}

/**
 * Manual registration: start (declare the signature and size) → PUT model.onnx to the presigned
 * URL → complete (checked in ONNX Runtime, registered as the next version). GET to see where it
 * is; DELETE to abort.
 */
export function registerUploadRoutes(
  app: FastifyInstance,
  deps: RegistryDeps,
  waitForPosition: WaitForPosition,
): void {
  serveRoute(app, registryRoutes, 'startUpload', async (request, reply) => {
    const { name } = request.params
    const { upload, position, url } = await startUpload(
      deps,
      requestPrincipal(request),
      name,
      request.body,
      idempotencyKeyOf(request),
    )
    reply.code(201).header('location', `/v1/models/${name}/uploads/${upload.uploadId}`)
    return {
      upload: uploadView(upload, position),
      url,
      expiresInSeconds: deps.presignExpirySeconds,
    }
  })

  serveRoute(app, registryRoutes, 'getUpload', async (request) => {
    const { name, uploadId } = request.params
    const { upload, position } = await accessibleUpload(
      deps,
      requestPrincipal(request),
      name,
      uploadId,
      'read',
    )
    return uploadView(upload, position)
  })

  serveRoute(app, registryRoutes, 'completeUpload', async (request, reply) => {
    const { name, uploadId } = request.params
    const { version, position } = await completeUpload(
      deps,
      requestPrincipal(request),
      name,
      uploadId,
    )
    await waitForPosition(position)
    const view = await findVersion(deps.db, name, version)
    if (!view) throw new NotFoundError('version', `${name}/${version}`)
    reply.code(201).header('location', `/v1/models/${name}/versions/${version}`)
    return { position, version: view }
  })

  serveRoute(app, registryRoutes, 'abortUpload', async (request) => {
    const { name, uploadId } = request.params
    const principal = requestPrincipal(request)
    const { upload } = await accessibleUpload(deps, principal, name, uploadId, 'write')
    const { position, state } = await abortUpload(deps, principal, upload, 'client')
    return uploadView(state, position)
  })
}
