import Type, { type Static } from 'typebox'
import { IdempotencyKeyHeaders, Nullable, StringEnum, defineRoutes } from '@argmax/http/contract'

/**
 * The inference service's resource API (batch predictions), declared once: fastify validates
 * and serialises with these schemas, /docs shows them, and the typed client
 * (`@argmax/inference-service/client`) is derived from them. The v2 protocol and `:predict`
 * have their own routes (gateway.routes.ts): their shapes are the protocol's.
 */
const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
const ModelName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })

export const BatchParams = Type.Object({ batchId: Id })

export const RequestBatchBody = Type.Object(
  {
    model: ModelName,
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    alias: Type.Optional(StringEnum(['stable', 'canary', 'shadow'] as const)),
    dataset: Type.Object({ datasetId: Id, versionId: Id }, { additionalProperties: false }),
    ownerId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'admins only: the user it is for (it is theirs, over a dataset they can read)',
      }),
    ),
  },
  { additionalProperties: false },
)

export const BatchStatus = StringEnum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const)

export const BatchPredictionView = Type.Object({
  id: Type.String(),
  status: BatchStatus,
  ownerId: Type.String(),
  model: Type.String(),
  version: Type.Integer(),
  alias: Nullable(Type.String()),
  dataset: Type.Object({
    datasetId: Type.String(),
    versionId: Type.String(),
    format: Type.String(),
    size: Type.Integer(),
  }),
  rowsDone: Type.Integer(),
  rowsFailed: Type.Integer(),
  /** The predictions file once SUCCEEDED: JSON Lines, one object per input row. */
  result: Nullable(
    Type.Object({ uri: Type.String(), sha256: Type.String(), size: Type.Integer() }),
  ),
  error: Nullable(Type.String()),
  requestedAt: Type.String(),
  finishedAt: Nullable(Type.String()),
  /** INFERENCE stream sequence of the last event. */
  position: Type.Integer(),
})
export type BatchPredictionView = Static<typeof BatchPredictionView>

export const BatchResultView = Type.Object({
  /** A presigned GET of the predictions file (JSON Lines). */
  url: Type.String(),
  expiresInSeconds: Type.Integer(),
  sha256: Type.String(),
  size: Type.Integer(),
})

export const inferenceRoutes = defineRoutes({
  requestBatchPrediction: {
    method: 'POST',
    url: '/v1/batch-predictions',
    retry: 'idempotency-key',
    schema: {
      tags: ['batch predictions'],
      summary: 'Predict every row of a dataset version with a model version (or release alias)',
      headers: IdempotencyKeyHeaders,
      body: RequestBatchBody,
      response: { 202: BatchPredictionView },
    },
  },
  getBatchPrediction: {
    method: 'GET',
    url: '/v1/batch-predictions/:batchId',
    schema: {
      tags: ['batch predictions'],
      summary: "A batch prediction's state and progress",
      params: BatchParams,
      response: { 200: BatchPredictionView },
    },
  },
  getBatchPredictionResult: {
    method: 'GET',
    url: '/v1/batch-predictions/:batchId/result',
    schema: {
      tags: ['batch predictions'],
      summary: 'Where to download the predictions of a finished batch',
      params: BatchParams,
      response: { 200: BatchResultView },
    },
  },
})
export type InferenceRoutes = typeof inferenceRoutes
