import type { GrpcAuth } from '@argmax/auth'
import { IllegalStateError, UnavailableError } from '@argmax/errors'
import { newEventId } from '@argmax/events'
import type { UntypedServiceImplementation } from '@grpc/grpc-js'
import type { Predictor } from '../application/predict.ts'
import type { ServingState } from '../application/serving-state.ts'
import {
  callFromGrpc,
  grpcFromResult,
  type GrpcInferRequest,
} from '../model-server/api/v2-grpc-codec.ts'
import type { RepositoryExtension } from '../model-server/api/v2-repository.routes.ts'
import type { RepositoryParameters } from '../model-server/repository/load-config.ts'
import { tritonModelConfig } from '../model-server/serving/model-config.ts'
import { modelMetadata } from '../model-server/serving/v2-service.ts'

/** The gateway's v2 server identity (ServerMetadata, `GET /v2`). */
export interface GatewayInfo {
  name: string
  version: string
  /** Registry caught up and at least one model server answering. */
  ready(): boolean
}

interface RepositoryRequest {
  model_name: string
  parameters: RepositoryParameters
}

interface ModelRequest {
  name: string
  version: string
}

/** The response parameter that carries a request's prediction ids (comma-separated, row order). */
export const PREDICTION_IDS_PARAMETER = 'prediction_ids'

/**
 * The v2 extensions the gateway serves, reported on both protocols as Triton does (binary tensor
 * data is REST's). Not the model repository: loading is the registry's release, not a call.
 */
export const GATEWAY_EXTENSIONS = ['binary_tensor_data']

/**
 * `inference.GRPCInferenceService` on the gateway: what a stock Triton or KServe client calls.
 * ModelInfer routes by the release (or the `model_version` it names) and answers with the
 * prediction ids in `parameters.prediction_ids` (a string_param, ids comma-separated in row
 * order) and the request id in `id`. The repository extension is the registry's business
 * here: RepositoryIndex lists what the releases serve (admin), load and unload are refused
 * with FAILED_PRECONDITION (change the release in the registry instead).
 */
export function gatewayGrpcHandlers(
  predictor: Predictor,
  serving: ServingState,
  info: GatewayInfo,
  auth: GrpcAuth,
): UntypedServiceImplementation {
  const admin = { roles: ['admin' as const] }
  const repository = gatewayRepository(serving)
  const models = gatewayModels(serving)
  return {
    ServerLive: auth.unary(async () => ({ live: true })),
    ServerReady: auth.unary(async () => ({ ready: info.ready() })),
    ServerMetadata: auth.unary(async () => ({
      name: info.name,
      version: info.version,
      extensions: GATEWAY_EXTENSIONS,
    })),
    ModelReady: auth.unary<ModelRequest, { ready: boolean }>(async (call) => ({
      ready: serving.isServing(call.request.name, call.request.version),
    })),
    ModelMetadata: auth.unary<ModelRequest, unknown>((call) =>
      models.metadata(call.request.name, call.request.version),
    ),
    ModelConfig: auth.unary<ModelRequest, unknown>(async (call) => ({
      config: await models.config(call.request.name, call.request.version),
    })),
    ModelInfer: auth.unary<GrpcInferRequest, unknown>(async (call, principal) => {
      const { call: request, raw } = callFromGrpc(call.request)
      const requestId = request.id || newEventId()
      const result = await predictor.predict({
        model: request.modelName,
        version: request.modelVersion || undefined,
        requestId,
        principal,
        protocol: 'grpc',
        inputs: request.inputs,
        outputs: request.outputs,
      })
      return {
        ...grpcFromResult(
          {
            modelName: result.model,
            modelVersion: String(result.version),
            id: requestId,
            outputs: result.outputs,
          },
          raw,
        ),
        parameters: {
          [PREDICTION_IDS_PARAMETER]: { string_param: result.predictionIds.join(',') },
        },
      }
    }),
    RepositoryIndex: auth.unary<{ ready: boolean }, unknown>(
      async (call) => ({ models: repository.index(call.request.ready) }),
      admin,
    ),
    RepositoryModelLoad: auth.unary<RepositoryRequest, unknown>(
      (call) => repository.load(call.request.model_name, call.request.parameters),
      admin,
    ),
    RepositoryModelUnload: auth.unary<RepositoryRequest, unknown>(
      (call) => repository.unload(call.request.model_name, call.request.parameters),
      admin,
    ),
  }
}

/**
 * A model's metadata and Triton configuration on the gateway, for gRPC and REST: from the
 * signature of the version named, or of the release's stable one.
 */
export function gatewayModels(serving: ServingState) {
  return {
    async metadata(name: string, version: string | undefined) {
      const described = await serving.describe(name, version)
      return modelMetadata(name, described.versions, described.signature)
    },
    async config(name: string, version: string | undefined) {
      return tritonModelConfig(name, (await serving.describe(name, version)).signature)
    },
  }
}

/**
 * The gateway's repository extension, for gRPC and REST: the index of what serves, by release;
 * loads and unloads refused, since releases decide what serves.
 */
export function gatewayRepository(serving: ServingState): RepositoryExtension {
  const refuse = async () => {
    throw new IllegalStateError(
      'the gateway serves what the registry releases: change the release in the registry (load and unload go to model servers)',
    )
  }
  return {
    index: (readyOnly) =>
      serving
        .index()
        .filter((entry) => !readyOnly || entry.state === 'READY')
        .map((entry) => ({ ...entry, version: String(entry.version) })),
    load: refuse,
    unload: refuse,
  }
}

/** For routes: a 503 while the gateway cannot serve at all. */
export function assertReady(info: GatewayInfo): void {
  if (!info.ready()) {
    throw new UnavailableError(
      'the gateway is not ready: the registry is being read or no model server answers',
      {
        retryAfterSeconds: 1,
      },
    )
  }
}
