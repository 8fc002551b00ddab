import * as grpc from '@grpc/grpc-js'
import { ReflectionService } from '@grpc/reflection'
import { HealthImplementation } from 'grpc-health-check'
import {
  INFERENCE_SERVICE_NAME,
  loadInferencePackageDefinition,
  loadInferenceService,
} from '@argmax/proto'

export interface GrpcServerOptions {
  host: string
  port: number
  /** Largest message received or sent; larger requests are refused (RESOURCE_EXHAUSTED) unread. */
  maxMessageBytes: number
  implementation: grpc.UntypedServiceImplementation
}

export interface RunningGrpcServer {
  /** `host:port` as bound (port 0 resolved). */
  address: string
  port: number
  /** Reports NOT_SERVING on the health service, lets calls in flight finish, then closes. */
  shutdown(graceMs?: number): Promise<void>
}

/**
 * A grpc-js server for the v2 service, with the standard gRPC health service
 * (`grpc.health.v1.Health`: '' and `inference.GRPCInferenceService`) and server reflection, so
 * grpcurl, grpc_health_probe and Kubernetes gRPC probes work. Health and reflection are open
 * (probes carry no token; reflection describes only the public protocol); everything else is
 * authenticated by its handlers.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    // Channelz (grpc-js's introspection service, which we do not serve) otherwise counts and
    // timestamps every call: per-call work on the hot path for nothing.
    'grpc.enable_channelz': 0,
  })
  server.addService(loadInferenceService(), options.implementation)
  const health = new HealthImplementation({ '': 'SERVING', [INFERENCE_SERVICE_NAME]: 'SERVING' })
  health.addToServer(server)
  new ReflectionService(loadInferencePackageDefinition()).addToServer(server)

  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  )
  return {
    address: `${host}:${port}`,
    port,
    async shutdown(graceMs = 10_000) {
      health.setStatus('', 'NOT_SERVING')
      health.setStatus(INFERENCE_SERVICE_NAME, 'NOT_SERVING')
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown()
          resolve()
        }, graceMs)
        server.tryShutdown(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    },
  }
}
