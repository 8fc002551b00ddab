import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

export const INFERENCE_PROTO_PATH = fileURLToPath(
  new URL('../inference/grpc_predict_v2.proto', import.meta.url),
)

/** The fully qualified name stock Triton and KServe clients call. */
export const INFERENCE_SERVICE_NAME = 'inference.GRPCInferenceService'

/**
 * How every Argmax process decodes the protocol: field names as the spec spells them (so a
 * message reads like the protocol documents), int64/uint64 as decimal strings (tensor values
 * past 2^53 keep their precision), unset fields filled with their defaults, and the set
 * member of a oneof named in `parameter_choice`.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
}

/**
 * The protocol's package definition as proto-loader decodes it: what gRPC server reflection
 * (`@grpc/reflection`) describes to clients such as grpcurl.
 */
export function loadInferencePackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(INFERENCE_PROTO_PATH, PROTO_LOADER_OPTIONS)
}

/** The v2 service definition, for `server.addService` and `makeGenericClientConstructor`. */
export function loadInferenceService(): grpc.ServiceDefinition {
  const loaded = grpc.loadPackageDefinition(loadInferencePackageDefinition())
  const inference = loaded['inference'] as grpc.GrpcObject
  const service = inference['GRPCInferenceService'] as grpc.ServiceClientConstructor
  return service.service
}
