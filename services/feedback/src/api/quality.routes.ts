import type { FastifyInstance } from 'fastify'
import { requestPrincipal, serveRoute } from '@argmax/http'
import type { FeedbackDeps } from '../application/dependencies.ts'
import { modelDrift } from '../application/drift.ts'
import { modelQuality } from '../application/quality.ts'
import { feedbackRoutes } from './contract.ts'

export function registerQualityRoutes(app: FastifyInstance, deps: FeedbackDeps): void {
  serveRoute(app, feedbackRoutes, 'getQuality', async (request) => {
    const { window, version, buckets } = request.query
    return modelQuality(deps, requestPrincipal(request), request.params.model, {
      window: window ?? '1h',
      version,
      buckets,
    })
  })

  serveRoute(app, feedbackRoutes, 'getDrift', async (request) => {
    const { window, version } = request.query
    return modelDrift(deps, requestPrincipal(request), request.params.model, {
      window: window ?? '1h',
      version,
    })
  })
}
