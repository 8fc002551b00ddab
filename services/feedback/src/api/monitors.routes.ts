import type { FastifyInstance } from 'fastify'
import { idempotencyKeyOf, requestPrincipal, serveRoute } from '@argmax/http'
import { receiveAlerts } from '../application/alertmanager.ts'
import type { FeedbackDeps } from '../application/dependencies.ts'
import { visibleModel } from '../application/model-access.ts'
import {
  createMonitor,
  deleteMonitor,
  findMonitor,
  listMonitors,
  monitorView,
  updateMonitor,
} from '../application/monitors.ts'
import { feedbackRoutes } from './contract.ts'
import { waitFor } from './read-your-writes.ts'

export function registerMonitorRoutes(app: FastifyInstance, deps: FeedbackDeps): void {
  serveRoute(app, feedbackRoutes, 'createMonitor', async (request, reply) => {
    const principal = requestPrincipal(request)
    const { monitorId, position } = await createMonitor(
      deps,
      principal,
      request.body,
      idempotencyKeyOf(request),
    )
    await deps.waitForFeedback(position)
    reply.code(201).header('location', `/v1/monitors/${monitorId}`)
    return {
      position,
      item: monitorView(deps, await findMonitor(deps, principal, monitorId), principal),
    }
  })

  serveRoute(app, feedbackRoutes, 'listMonitors', async (request) => {
    const principal = requestPrincipal(request)
    await waitFor(deps, request.query.minPosition)
    const rows = await listMonitors(deps, principal, request.query.model)
    return { items: rows.map((row) => monitorView(deps, row, principal)) }
  })

  serveRoute(app, feedbackRoutes, 'listRetrainRequests', async (request) => {
    const principal = requestPrincipal(request)
    await visibleModel(deps, principal, request.query.model)
    await waitFor(deps, request.query.minPosition)
    const rows = await deps.db
      .selectFrom('retrain_requests')
      .selectAll()
      .where('model', '=', request.query.model)
      .orderBy('requested_at', 'desc')
      .limit(200)
      .execute()
    return {
      items: rows.map((row) => ({
        id: row.id,
        model: row.model,
        version: row.version,
        trigger: row.trigger,
        monitorId: row.monitor_id,
        reason: row.reason,
        evidence: row.evidence,
        requestedAt: new Date(row.requested_at).toISOString(),
      })),
    }
  })

  serveRoute(app, feedbackRoutes, 'alertmanagerWebhook', async (request) =>
    receiveAlerts(deps, requestPrincipal(request), request.body),
  )

  serveRoute(app, feedbackRoutes, 'getMonitor', async (request) => {
    const principal = requestPrincipal(request)
    await waitFor(deps, request.query.minPosition)
    return monitorView(deps, await findMonitor(deps, principal, request.params.id), principal)
  })

  serveRoute(app, feedbackRoutes, 'updateMonitor', async (request) => {
    const principal = requestPrincipal(request)
    const { position } = await updateMonitor(deps, principal, request.params.id, request.body)
    await deps.waitForFeedback(position)
    return {
      position,
      item: monitorView(deps, await findMonitor(deps, principal, request.params.id), principal),
    }
  })

  serveRoute(app, feedbackRoutes, 'deleteMonitor', async (request) => {
    const principal = requestPrincipal(request)
    const { position } = await deleteMonitor(deps, principal, request.params.id)
    return { id: request.params.id, position }
  })
}
