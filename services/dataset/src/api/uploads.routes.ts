import type { FastifyInstance } from 'fastify'
import { requestPrincipal } from '@argmax/http'
import { abortUpload } from '../application/abort-upload.ts'
import { completeUpload } from '../application/complete-upload.ts'
import type { DatasetDeps } from '../application/dependencies.ts'
import { getUpload } from '../application/get-upload.ts'
import { startUpload } from '../application/start-upload.ts'
import { presignParts, recordParts } from '../application/upload-parts.ts'
import { accessibleVersion } from '../application/version-access.ts'
import type { UploadRequest, UploadedPart } from '../domain/index.ts'
import {
  completeUploadBody,
  datasetParams,
  partParams,
  presignPartsBody,
  recordPartBody,
  recordPartsBody,
  startUploadBody,
  uploadParams,
} from './schemas.ts'

type UploadParams = { datasetId: string; uploadId: string }

/**
 * The upload protocol: start (declare the file) → presigned part URLs → the client PUTs each
 * part straight to S3 and records its ETag → complete. GET the upload to resume; DELETE it to
 * abort. The upload id is the id of the version it creates.
 */
export function registerUploadRoutes(app: FastifyInstance, deps: DatasetDeps): void {
  app.post(
    '/v1/datasets/:datasetId/uploads',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Start uploading a file as a new version (≤ 2 GiB)',
        params: datasetParams,
        body: startUploadBody,
      },
    },
    async (request, reply) => {
      const principal = requestPrincipal(request)
      const { datasetId } = request.params as { datasetId: string }
      const { versionId, position } = await startUpload(
        deps,
        principal,
        datasetId,
        request.body as UploadRequest,
      )
      reply.code(201).header('location', `/v1/datasets/${datasetId}/uploads/${versionId}`)
      return { ...(await getUpload(deps, principal, datasetId, versionId)), position }
    },
  )

  app.get(
    '/v1/datasets/:datasetId/uploads/:uploadId',
    {
      schema: {
        tags: ['uploads'],
        summary: "An upload's status and the parts recorded so far (to resume)",
        params: uploadParams,
      },
    },
    async (request) => {
      const { datasetId, uploadId } = request.params as UploadParams
      return getUpload(deps, requestPrincipal(request), datasetId, uploadId)
    },
  )

  app.post(
    '/v1/datasets/:datasetId/uploads/:uploadId/parts',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Presigned PUT URLs for a batch of parts',
        params: uploadParams,
        body: presignPartsBody,
      },
    },
    async (request) => {
      const { datasetId, uploadId } = request.params as UploadParams
      const { partNumbers } = request.body as { partNumbers: number[] }
      return presignParts(deps, requestPrincipal(request), datasetId, uploadId, partNumbers)
    },
  )

  app.post(
    '/v1/datasets/:datasetId/uploads/:uploadId/parts/recorded',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Record stored parts with their ETags (a batch)',
        params: uploadParams,
        body: recordPartsBody,
      },
      bodyLimit: 2 * 1024 * 1024,
    },
    async (request) => {
      const { datasetId, uploadId } = request.params as UploadParams
      const { parts } = request.body as { parts: UploadedPart[] }
      return recordParts(deps, requestPrincipal(request), datasetId, uploadId, parts)
    },
  )

  app.post(
    '/v1/datasets/:datasetId/uploads/:uploadId/parts/:partNumber/complete',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Record one stored part with its ETag',
        params: partParams,
        body: recordPartBody,
      },
    },
    async (request) => {
      const { datasetId, uploadId, partNumber } = request.params as UploadParams & {
        partNumber: number
      }
      const { etag } = request.body as { etag: string }
      return recordParts(deps, requestPrincipal(request), datasetId, uploadId, [
        { partNumber, etag },
      ])
    },
  )

  app.post(
    '/v1/datasets/:datasetId/uploads/:uploadId/complete',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Complete the upload with every part; validation starts',
        params: uploadParams,
        body: completeUploadBody,
      },
      bodyLimit: 2 * 1024 * 1024,
    },
    async (request, reply) => {
      const { datasetId, uploadId } = request.params as UploadParams
      const { parts } = request.body as { parts: UploadedPart[] }
      const { position, state } = await completeUpload(
        deps,
        requestPrincipal(request),
        datasetId,
        uploadId,
        parts,
      )
      reply.code(202)
      return {
        versionId: uploadId,
        status: state.status === 'absent' ? null : state.status,
        position,
      }
    },
  )

  app.delete(
    '/v1/datasets/:datasetId/uploads/:uploadId',
    {
      schema: { tags: ['uploads'], summary: 'Abort an upload in progress', params: uploadParams },
    },
    async (request) => {
      const { datasetId, uploadId } = request.params as UploadParams
      const principal = requestPrincipal(request)
      const { version } = await accessibleVersion(deps, principal, datasetId, uploadId, 'write')
      const { position, state } = await abortUpload(deps, principal, version, 'client')
      return {
        versionId: uploadId,
        status: state.status === 'absent' ? null : state.status,
        position,
      }
    },
  )
}
