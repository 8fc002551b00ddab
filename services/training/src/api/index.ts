import type { FastifyInstance } from 'fastify'
import type { TrainingDeps } from '../application/dependencies.ts'
import { registerJobRoutes } from './job.routes.ts'
import { registerPipelineRoutes } from './pipelines.routes.ts'
import { registerQuotaRoutes } from './quotas.routes.ts'
import { registerRunRoutes } from './runs.routes.ts'

export { trainingRoutes, type TrainingRoutes } from './contract.ts'
export { JOB_PATHS } from './job.routes.ts'

/** Every `/v1/runs` and `/v1/pipelines` route, on an app built by @argmax/http's createServiceApp. */
export async function registerTrainingApi(app: FastifyInstance, deps: TrainingDeps): Promise<void> {
  registerRunRoutes(app, deps)
  registerQuotaRoutes(app, deps)
  registerPipelineRoutes(app, deps)
  await registerJobRoutes(app, deps)
}
