import type { FastifyInstance } from 'fastify'
import { requestPrincipal, serveRoute } from '@argmax/http'
import type { TrainingDeps } from '../application/dependencies.ts'
import { getQuota, setQuotaOverride } from '../application/quotas.ts'
import { trainingRoutes } from './contract.ts'

export function registerQuotaRoutes(app: FastifyInstance, deps: TrainingDeps): void {
  serveRoute(app, trainingRoutes, 'getQuota', async (request) =>
    getQuota(deps, requestPrincipal(request), request.params.userId),
  )
  serveRoute(app, trainingRoutes, 'setQuota', async (request) =>
    setQuotaOverride(deps, requestPrincipal(request), request.params.userId, request.body),
  )
}
