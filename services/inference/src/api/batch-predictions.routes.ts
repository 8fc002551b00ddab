import type { FastifyInstance } from 'fastify'
import type { S3Client } from '@aws-sdk/client-s3'
import { requestPrincipal } from '@argmax/auth'
import { IllegalStateError } from '@argmax/errors'
import { idempotencyKeyOf, serveRoute } from '@argmax/http'
import { presignGetObject } from '@argmax/storage'
import { parseS3Uri } from '@argmax/contracts'
import {
  getBatchPrediction,
  requestBatchPrediction,
  type BatchDeps,
  type ExistingBatch,
} from '../application/batch-predictions.ts'
import { inferenceRoutes, type BatchPredictionView } from './contract.ts'

const RESULT_URL_SECONDS = 3_600

export function registerBatchRoutes(
  app: FastifyInstance,
  deps: BatchDeps & { s3: S3Client },
): void {
  serveRoute(app, inferenceRoutes, 'requestBatchPrediction', async (request, reply) => {
    const { batchId, position, state } = await requestBatchPrediction(
      deps,
      requestPrincipal(request),
      request.body,
      idempotencyKeyOf(request),
    )
    reply.code(202)
    return view(batchId, state, position)
  })
  serveRoute(app, inferenceRoutes, 'getBatchPrediction', async (request) => {
    const { state, position } = await getBatchPrediction(
      deps,
      requestPrincipal(request),
      request.params.batchId,
    )
    return view(request.params.batchId, state, position)
  })
  serveRoute(app, inferenceRoutes, 'getBatchPredictionResult', async (request) => {
    const { state } = await getBatchPrediction(
      deps,
      requestPrincipal(request),
      request.params.batchId,
    )
    if (state.status !== 'SUCCEEDED' || !state.result) {
      throw new IllegalStateError(
        `batch prediction ${request.params.batchId} is ${state.status}: its result comes once it SUCCEEDED`,
      )
    }
    const location = parseS3Uri(state.result.uri)!
    return {
      url: await presignGetObject(deps.s3, {
        bucket: location.bucket,
        key: location.key,
        expiresInSeconds: RESULT_URL_SECONDS,
        downloadFileName: `${request.params.batchId}.jsonl`,
      }),
      expiresInSeconds: RESULT_URL_SECONDS,
      sha256: state.result.sha256,
      size: state.result.size,
    }
  })
}

function view(id: string, state: ExistingBatch, position: number): BatchPredictionView {
  return {
    id,
    status: state.status,
    ownerId: state.ownerId,
    model: state.model,
    version: state.version,
    alias: state.alias ?? null,
    dataset: {
      datasetId: state.input.datasetId,
      versionId: state.input.versionId,
      format: state.input.format,
      size: state.input.size,
    },
    rowsDone: state.rowsDone,
    rowsFailed: state.rowsFailed,
    result: state.result ?? null,
    error: state.error ?? null,
    requestedAt: state.requestedAt,
    finishedAt: state.finishedAt ?? null,
    position,
  }
}
