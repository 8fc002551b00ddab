import type { FastifyInstance } from 'fastify'
import type { FeedbackDeps } from '../application/dependencies.ts'
import { registerDatasetRoutes, registerImportRoutes } from './datasets.routes.ts'
import { registerLabelRoutes } from './labels.routes.ts'
import { registerMonitorRoutes } from './monitors.routes.ts'
import { registerQualityRoutes } from './quality.routes.ts'

export { feedbackRoutes, type FeedbackRoutes } from './contract.ts'

/** Every `/v1/feedback`, `/v1/quality` and `/v1/monitors` route. */
export function registerFeedbackApi(app: FastifyInstance, deps: FeedbackDeps): void {
  registerLabelRoutes(app, deps)
  registerDatasetRoutes(app, deps)
  registerImportRoutes(app, deps)
  registerQualityRoutes(app, deps)
  registerMonitorRoutes(app, deps)
}
