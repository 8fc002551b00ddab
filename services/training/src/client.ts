import { createApiClient, type ApiClient, type ApiClientOptions } from '@argmax/http/client'
import { trainingRoutes, type TrainingRoutes } from './api/contract.ts'
export type {
  CreatePipelineInput,
  PipelineConfigInput,
  PipelineDetails,
  PipelineRunView,
  PipelineTimelineEntry,
  PipelineView,
} from './api/pipelines.contract.ts'

/**
 * The training API's typed client (`@argmax/training-service/client`): one method per route
 * of the contract, e.g. `createRun({ body })`, `getRun({ params })`, `getPipeline({ params })`. Imports no server code,
 * so the CLI, the console and tests can use it.
 */
export type TrainingClient = ApiClient<TrainingRoutes>

export function createTrainingClient(options: ApiClientOptions): TrainingClient {
  return createApiClient(trainingRoutes, options)
}

export { ApiError, type ApiClientOptions } from '@argmax/http/client'
export type {
  AttemptView,
  CreateRunInput,
  FailureView,
  ProgressView,
  QuotaView,
  RunDetailView,
  RunStatusName,
  RunView,
} from './api/contract.ts'
