import { startServiceShell, type ServiceStartOptions } from '@argmax/service'
import { inferenceMigrations } from './migrations/index.ts'
import { INFERENCE_LOG_STREAM, inferenceStreams } from './streams.ts'

/**
 * The inference service as it stands: its stream, its schema and the HTTP shell. Its domain
 * arrives with its issue; until then it serves only the operational endpoints.
 */
export function startInferenceService(options: ServiceStartOptions) {
  return startServiceShell({
    ...options,
    service: 'inference',
    description:
      'The inference gateway: KServe v2 REST and gRPC, traffic splitting, prediction logging',
    streams: inferenceStreams,
    readinessStream: INFERENCE_LOG_STREAM,
    migrations: inferenceMigrations,
  })
}
