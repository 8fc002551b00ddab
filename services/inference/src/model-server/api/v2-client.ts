import * as grpc from '@grpc/grpc-js'
import { INFERENCE_SERVICE_NAME, loadInferenceService } from '@argmax/proto'

export type V2Method =
  | 'ServerLive'
  | 'ServerReady'
  | 'ModelReady'
  | 'ServerMetadata'
  | 'ModelMetadata'
  | 'ModelInfer'
  | 'ModelConfig'
  | 'RepositoryIndex'
  | 'RepositoryModelLoad'
  | 'RepositoryModelUnload'

export interface V2CallOptions {
  /** A bearer token for this call (else the client's). */
  token?: string
  /** Milliseconds until the call is abandoned with DEADLINE_EXCEEDED. */
  timeoutMs?: number
}

export interface V2Client {
  /** Any method of `inference.GRPCInferenceService`, messages as `@argmax/proto` decodes them. */
  call<Response = Record<string, unknown>>(
    method: V2Method,
    request: Record<string, unknown>,
    options?: V2CallOptions,
  ): Promise<Response>
  close(): void
}

let definition: grpc.ServiceDefinition | undefined

/**
 * A promise-based client of any v2 server (ours, Triton, KServe), with the bearer token sent as
 * `authorization` metadata. One HTTP/2 connection per client; grpc-js multiplexes calls on it.
 */
export function createV2Client(
  address: string,
  options: { token?: string; channelOptions?: grpc.ChannelOptions } = {},
): V2Client {
  definition ??= loadInferenceService()
  const Client = grpc.makeGenericClientConstructor(definition, INFERENCE_SERVICE_NAME)
  const client = new Client(address, grpc.credentials.createInsecure(), options.channelOptions)
  const unary = client as unknown as Record<
    string,
    (
      request: unknown,
      metadata: grpc.Metadata,
      callOptions: grpc.CallOptions,
      callback: (error: grpc.ServiceError | null, response: unknown) => void,
    ) => void
  >
  return {
    call(method, request, callOptions = {}) {
      const metadata = new grpc.Metadata()
      const token = callOptions.token ?? options.token
      if (token) metadata.set('authorization', `Bearer ${token}`)
      const deadline =
        callOptions.timeoutMs === undefined ? {} : { deadline: Date.now() + callOptions.timeoutMs }
      return new Promise((resolve, reject) =>
        unary[method]!.call(client, request, metadata, deadline, (error, response) =>
          error ? reject(error) : resolve(response as never),
        ),
      )
    },
    close: () => client.close(),
  }
}
