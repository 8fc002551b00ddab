import type { FastifyInstance } from 'fastify'
import { requestPrincipal } from '@argmax/auth'
import { NotFoundError, UnavailableError } from '@argmax/errors'
import { fromFastifyError } from '@argmax/http'
import type { Predictor, PredictResult } from '../application/predict.ts'
import type { ServingState } from '../application/serving-state.ts'
import { sendV2Problem } from '../model-server/api/v2.routes.ts'
import { registerV2ModelRoutes } from '../model-server/api/v2-model.routes.ts'
import { binaryPartOf } from '../model-server/api/v2-rest-body.ts'
import { callFromRest, sendInferAnswer } from '../model-server/api/v2-rest-codec.ts'
import {
  assertReady,
  gatewayModels,
  gatewayRepository,
  GATEWAY_EXTENSIONS,
  PREDICTION_IDS_PARAMETER,
  type GatewayInfo,
} from './gateway-grpc.handlers.ts'
import {
  instancesToInputs,
  outputRows,
  type Instance,
  type PositionalInstance,
} from './instances.ts'

/**
 * The gateway's REST API:
 *   GET  /v2/health/live | /v2/health/ready          (ready: registry read, a model server up)
 *   GET  /v2                                          server metadata
 *   GET  /v2/models/{name}[/versions/{version}]       metadata (the release's stable version)
 *   GET  /v2/models/{name}[/versions/{version}]/ready
 *   GET  /v2/models/{name}[/versions/{version}]/config  Triton's model configuration
 *   POST /v2/models/{name}[/versions/{version}]/infer JSON or binary tensors (Triton's binary
 *                                                     tensor data extension); prediction ids in
 *                                                     `parameters.prediction_ids` (comma-separated)
 *   POST /v2/repository/index                         what serves, by release (admins); loads
 *                                                     and unloads are refused: releases decide
 *   POST /v1/models/{name}:predict[?version=N]        {"instances": [{column: value}, …]} (or
 *                                                     lists of values in input order) →
 *        {model, version, requestId, predictions: [...], predictionIds: [...], outputs?: {...}}
 * Every body larger than ARGMAX_INFERENCE_MAX_MESSAGE_MB is refused (413) before it is read.
 * Refusals are problem+json with v2's `error` member too; 503s carry Retry-After.
 */
export interface GatewayRoutesOptions {
  predictor: Predictor
  serving: ServingState
  info: GatewayInfo
  bodyLimit: number
}

interface PredictBody {
  instances: Array<Instance | PositionalInstance>
}

const predictBody = {
  type: 'object',
  required: ['instances'],
  additionalProperties: false,
  properties: {
    // Records, or KServe v1's positional lists (values in the signature's input order).
    instances: { type: 'array', minItems: 1, items: { type: ['object', 'array'] } },
    parameters: { type: 'object' },
  },
} as const

const tags = ['inference']

export async function registerGatewayRoutes(
  app: FastifyInstance,
  options: GatewayRoutesOptions,
): Promise<void> {
  const { predictor, serving, info, bodyLimit } = options
  await app.register(async (v2) => {
    v2.setErrorHandler((error, request, reply) =>
      sendV2Problem(request, reply, fromFastifyError(error, request, bodyLimit)),
    )
    v2.get('/v2/health/live', { schema: { tags, summary: 'Gateway liveness' } }, async () => ({
      live: true,
    }))
    v2.get('/v2/health/ready', { schema: { tags, summary: 'Gateway readiness' } }, async () => {
      assertReady(info)
      return { ready: true }
    })
    v2.get('/v2', { schema: { tags, summary: 'Server metadata' } }, async () => ({
      name: info.name,
      version: info.version,
      extensions: GATEWAY_EXTENSIONS,
    }))

    const models = gatewayModels(serving)
    await registerV2ModelRoutes(v2, {
      tags,
      bodyLimit,
      repository: gatewayRepository(serving),
      metadata: ({ name, version }) => models.metadata(name, version),
      ready: ({ name, version }) => {
        const why = serving.whyNotReady(name, version)
        if (why !== undefined) throw new UnavailableError(why, { retryAfterSeconds: 1 })
        return { name, ready: true }
      },
      config: ({ name, version }) => models.config(name, version),
      async infer(request, reply) {
        const call = callFromRest(request.params, request.body, binaryPartOf(request))
        const requestId = call.id || request.id
        const result = await predictor.predict({
          model: request.params.name,
          version: request.params.version,
          requestId,
          principal: requestPrincipal(request),
          protocol: 'rest',
          inputs: call.inputs,
          outputs: call.outputs,
        })
        const head = {
          model_name: result.model,
          model_version: String(result.version),
          id: requestId,
          parameters: { [PREDICTION_IDS_PARAMETER]: result.predictionIds.join(',') },
        }
        return sendInferAnswer(reply, request.body, head, result.outputs)
      },
    })

    // `:predict` is a literal after the name: a regex bounds the parameter, `::` is a colon.
    v2.post<{ Params: { name: string }; Querystring: { version?: string }; Body: PredictBody }>(
      '/v1/models/:name(^[^/:]+)::predict',
      {
        bodyLimit,
        schema: {
          tags,
          summary:
            'Predict from records: {"instances": [{column: value}]}, or lists of values in input order',
          params: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string', minLength: 1 } },
          },
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { version: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } },
          },
          body: predictBody,
        },
      },
      async (request) => {
        const result = await predictor.predict({
          model: request.params.name,
          version: request.query.version,
          requestId: request.id,
          principal: requestPrincipal(request),
          protocol: 'rest',
          inputs: (signature) => instancesToInputs(signature, request.body.instances),
          outputs: [],
        })
        return predictAnswer(result)
      },
    )
  })
}

/**
 * The record-shaped answer: `predictions` holds the main output per row — `predictions` for
 * regression, `label` for classification, else the first output — and `outputs` every output
 * by name when there is more than one (e.g. classification's `probabilities`).
 */
export function predictAnswer(result: PredictResult) {
  const main =
    result.outputs.find((o) => o.name === 'predictions') ??
    result.outputs.find((o) => o.name === 'label') ??
    result.outputs[0]
  if (!main) throw new NotFoundError('output', 'of the model')
  return {
    model: result.model,
    version: result.version,
    requestId: result.requestId,
    predictions: outputRows(main),
    predictionIds: result.predictionIds,
    ...(result.outputs.length > 1
      ? { outputs: Object.fromEntries(result.outputs.map((o) => [o.name, outputRows(o)])) }
      : {}),
  }
}
