import { createApiClient, type ApiClient, type ApiClientOptions } from '@argmax/http/client'
import { inferenceRoutes, type InferenceRoutes } from './api/contract.ts'

/**
 * The inference resource API's typed client (`@argmax/inference-service/client`): batch
 * predictions. Predictions themselves go through any v2 client (`createV2Client` for gRPC).
 */
export type InferenceClient = ApiClient<InferenceRoutes>

export function createInferenceClient(options: ApiClientOptions): InferenceClient {
  return createApiClient(inferenceRoutes, options)
}

export { ApiError, type ApiClientOptions } from '@argmax/http/client'
export type { BatchPredictionView } from './api/contract.ts'
