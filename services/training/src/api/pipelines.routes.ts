import type { FastifyInstance } from 'fastify'
import { hasRole } from '@argmax/auth'
import { idempotencyKeyOf, requestPrincipal, serveRoute } from '@argmax/http'
import type { TrainingDeps } from '../application/dependencies.ts'
import { pipelineConfigOf, pipelineView } from '../application/pipeline-views.ts'
import {
  abortPipeline,
  approvePipeline,
  createPipeline,
  showPipeline,
  triggerPipeline,
  updatePipeline,
} from '../application/pipelines.ts'
import { pipelineStateOfRow } from '../projections/pipelines.projection.ts'
import { listPipelineRows } from '../projections/pipelines.queries.ts'
import { trainingRoutes } from './contract.ts'

export function registerPipelineRoutes(app: FastifyInstance, deps: TrainingDeps): void {
  serveRoute(app, trainingRoutes, 'createPipeline', async (request, reply) => {
    const { model, ...config } = request.body
    const { position, state } = await createPipeline(
      deps,
      requestPrincipal(request),
      { model, config: pipelineConfigOf(config) },
      idempotencyKeyOf(request),
    )
    reply.code(201).header('location', `/v1/pipelines/${model}`)
    return { position, pipeline: pipelineView(state) }
  })

  serveRoute(app, trainingRoutes, 'listPipelines', async (request) => {
    const principal = requestPrincipal(request)
    const seesAll = hasRole(principal, 'admin') || hasRole(principal, 'analyst')
    const rows = await listPipelineRows(deps.db, {
      ...(seesAll ? {} : { ownerId: principal.subject }),
      ...(request.query.model ? { model: request.query.model } : {}),
      limit: request.query.limit ?? 100,
    })
    return {
      items: rows.map((row) => pipelineView(pipelineStateOfRow(row))),
    }
  })

  serveRoute(app, trainingRoutes, 'getPipeline', async (request) => {
    const { state, timeline, position } = await showPipeline(
      deps,
      requestPrincipal(request),
      request.params.model,
      { runs: request.query.all ? 'all' : 'current' },
    )
    return { position, pipeline: pipelineView(state), timeline }
  })

  serveRoute(app, trainingRoutes, 'updatePipeline', async (request) => {
    const { position, state } = await updatePipeline(
      deps,
      requestPrincipal(request),
      request.params.model,
      pipelineConfigOf(request.body),
    )
    return { position, pipeline: pipelineView(state) }
  })

  serveRoute(app, trainingRoutes, 'triggerPipeline', async (request) => {
    const { position, state } = await triggerPipeline(
      deps,
      requestPrincipal(request),
      request.params.model,
      request.body.reason,
    )
    return { position, pipeline: pipelineView(state) }
  })

  serveRoute(app, trainingRoutes, 'approvePipeline', async (request) => {
    const { position, state } = await approvePipeline(
      deps,
      requestPrincipal(request),
      request.params.model,
      request.body.reason,
    )
    return { position, pipeline: pipelineView(state) }
  })

  serveRoute(app, trainingRoutes, 'abortPipeline', async (request) => {
    const { position, state } = await abortPipeline(
      deps,
      requestPrincipal(request),
      request.params.model,
      request.body.reason,
    )
    return { position, pipeline: pipelineView(state) }
  })
}
