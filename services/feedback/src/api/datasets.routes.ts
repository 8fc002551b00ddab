import type { FastifyInstance } from 'fastify'
import { idempotencyKeyOf, requestPrincipal, serveRoute } from '@argmax/http'
import type { FeedbackDeps } from '../application/dependencies.ts'
import {
  findFeedbackDataset,
  findPin,
  listFeedbackDatasets,
  pinFeedbackDataset,
  requestFeedbackDataset,
} from '../application/feedback-datasets.ts'
import { findImport, requestImport } from '../application/label-imports.ts'
import { feedbackRoutes } from './contract.ts'
import { waitFor } from './read-your-writes.ts'

export function registerDatasetRoutes(app: FastifyInstance, deps: FeedbackDeps): void {
  serveRoute(app, feedbackRoutes, 'createFeedbackDataset', async (request, reply) => {
    const principal = requestPrincipal(request)
    const { feedbackDatasetId, position } = await requestFeedbackDataset(
      deps,
      principal,
      request.body,
      idempotencyKeyOf(request),
    )
    await deps.waitForFeedback(position)
    reply.code(202).header('location', `/v1/feedback/datasets/${feedbackDatasetId}`)
    return { position, item: await findFeedbackDataset(deps, principal, feedbackDatasetId) }
  })

  serveRoute(app, feedbackRoutes, 'listFeedbackDatasets', async (request) => {
    await waitFor(deps, request.query.minPosition)
    return {
      items: await listFeedbackDatasets(deps, requestPrincipal(request), request.query.model),
    }
  })

  serveRoute(app, feedbackRoutes, 'getFeedbackDataset', async (request) => {
    await waitFor(deps, request.query.minPosition)
    return findFeedbackDataset(deps, requestPrincipal(request), request.params.id)
  })

  serveRoute(app, feedbackRoutes, 'pinFeedbackDataset', async (request) => {
    const principal = requestPrincipal(request)
    const { position } = await pinFeedbackDataset(
      deps,
      principal,
      request.body.model,
      request.body.feedbackDatasetId,
    )
    await deps.waitForFeedback(position)
    return { position, pin: await findPin(deps, principal, request.body.model) }
  })

  serveRoute(app, feedbackRoutes, 'getPin', async (request) => {
    await waitFor(deps, request.query.minPosition)
    return findPin(deps, requestPrincipal(request), request.query.model)
  })
}

export function registerImportRoutes(app: FastifyInstance, deps: FeedbackDeps): void {
  serveRoute(app, feedbackRoutes, 'createImport', async (request, reply) => {
    const principal = requestPrincipal(request)
    const { importId, position } = await requestImport(
      deps,
      principal,
      request.body,
      idempotencyKeyOf(request),
    )
    await deps.waitForFeedback(position)
    reply.code(202).header('location', `/v1/feedback/imports/${importId}`)
    return { position, item: await findImport(deps, principal, importId) }
  })

  serveRoute(app, feedbackRoutes, 'getImport', async (request) => {
    await waitFor(deps, request.query.minPosition)
    return findImport(deps, requestPrincipal(request), request.params.id)
  })
}
