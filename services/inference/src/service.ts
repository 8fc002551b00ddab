import {
  startServiceShell,
  type ServiceDefinition,
  type ServiceStartOptions,
} from '@argmax/service'
import { inferenceMigrations } from './migrations/index.ts'
import { INFERENCE_LOG_STREAM, inferenceStreams } from './streams.ts'

/**
 * The inference service as declared to the shell: its stream, its schema and the HTTP shell. Its
 * domain arrives with its issue and fills the other slots of the definition (projections,
 * dependencies, api, workers — see services/dataset/src/service.ts); until then it serves only
 * the operational endpoints.
 */
export const inferenceService: ServiceDefinition<unknown> = {
  service: 'inference',
  description:
    'The inference gateway: KServe v2 REST and gRPC, traffic splitting, prediction logging',
  streams: inferenceStreams,
  readinessStream: INFERENCE_LOG_STREAM,
  migrations: inferenceMigrations,
}

export function startInferenceService(options: ServiceStartOptions) {
  return startServiceShell(inferenceService, options)
}
