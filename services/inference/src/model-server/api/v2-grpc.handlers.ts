import type { GrpcAuth } from '@argmax/auth'
import type { UntypedServiceImplementation } from '@grpc/grpc-js'
import type { RepositoryParameters } from '../repository/load-config.ts'
import type { V2Service } from '../serving/v2-service.ts'
import { callFromGrpc, grpcFromResult, type GrpcInferRequest } from './v2-grpc-codec.ts'

interface ModelRequest {
  name: string
  version: string
}

interface RepositoryRequest {
  repository_name: string
  model_name: string
  parameters: RepositoryParameters
}

/**
 * `inference.GRPCInferenceService` over a V2Service. Every call needs a bearer token in the
 * `authorization` metadata; the repository extension (index, load, unload) needs the `admin`
 * role — the gateway calls it with a service credential. `repository_name` is ignored: a model
 * server has one repository.
 */
export function v2GrpcHandlers(service: V2Service, auth: GrpcAuth): UntypedServiceImplementation {
  const admin = { roles: ['admin' as const] }
  return {
    ServerLive: auth.unary(async () => ({ live: true })),
    ServerReady: auth.unary(async () => ({ ready: service.ready })),
    ModelReady: auth.unary<ModelRequest, { ready: boolean }>(async (call) => ({
      ready: service.modelReady(call.request.name, call.request.version),
    })),
    ServerMetadata: auth.unary(async () => service.serverMetadata()),
    ModelMetadata: auth.unary<ModelRequest, unknown>(async (call) =>
      service.modelMetadata(call.request.name, call.request.version),
    ),
    ModelConfig: auth.unary<ModelRequest, unknown>(async (call) => ({
      config: service.modelConfig(call.request.name, call.request.version),
    })),
    ModelInfer: auth.unary<GrpcInferRequest, unknown>(async (call) => {
      const { call: inferCall, raw } = callFromGrpc(call.request)
      return grpcFromResult(await service.infer(inferCall), raw)
    }),
    RepositoryIndex: auth.unary<{ ready: boolean }, unknown>(
      async (call) => ({ models: service.index(call.request.ready) }),
      admin,
    ),
    RepositoryModelLoad: auth.unary<RepositoryRequest, unknown>(async (call) => {
      await service.load(call.request.model_name, call.request.parameters)
      return {}
    }, admin),
    RepositoryModelUnload: auth.unary<RepositoryRequest, unknown>(async (call) => {
      await service.unload(call.request.model_name, call.request.parameters)
      return {}
    }, admin),
  }
}
