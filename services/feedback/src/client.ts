import { createApiClient, type ApiClient, type ApiClientOptions } from '@argmax/http/client'
import { feedbackRoutes, type FeedbackRoutes } from './api/contract.ts'

/**
 * The feedback API's typed client (`@argmax/feedback-service/client`): one method per route of
 * the contract, e.g. `sendLabels({ body })`, `getQuality({ params: { model }, query })`. Imports
 * no server code, so the CLI, the console and tests can use it.
 */
export type FeedbackClient = ApiClient<FeedbackRoutes>

export function createFeedbackClient(options: ApiClientOptions): FeedbackClient {
  return createApiClient(feedbackRoutes, options)
}

export { ApiError, type ApiClientOptions } from '@argmax/http/client'
export type {
  DriftView,
  FeatureDrift,
  FeedbackDatasetView,
  ImportView,
  LabelsAccepted,
  MonitorView,
  PinView,
  QualityMetrics,
  QualityView,
  RetrainRequestView,
  VersionDrift,
  VersionQuality,
} from './api/contract.ts'
