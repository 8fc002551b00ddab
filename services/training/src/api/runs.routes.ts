import type { FastifyInstance } from 'fastify'
import { hasRole } from '@argmax/auth'
import { idempotencyKeyOf, requestedPosition, requestPrincipal, serveRoute } from '@argmax/http'
import { assertAdmin, listingOwner, readableRun } from '../application/access.ts'
import { cancelRun } from '../application/cancel-run.ts'
import { discardDeadLettered, retryDeadLettered } from '../application/dead-letters.ts'
import type { TrainingDeps } from '../application/dependencies.ts'
import { runLogs } from '../application/run-logs.ts'
import { runAt, visibleRun } from '../application/run-views.ts'
import { submitRun } from '../application/submit-run.ts'
import { listRuns, metricsHistory } from '../projections/runs.queries.ts'
import { DEFAULT_PAGE_SIZE, trainingRoutes } from './contract.ts'

export function registerRunRoutes(app: FastifyInstance, deps: TrainingDeps): void {
  serveRoute(app, trainingRoutes, 'createRun', async (request, reply) => {
    const principal = requestPrincipal(request)
    const { runId, position } = await submitRun(
      deps,
      principal,
      request.body,
      idempotencyKeyOf(request),
    )
    const run = await runAt(deps, runId, position)
    reply.code(201).header('location', `/v1/runs/${runId}`)
    return { id: runId, position, run }
  })

  serveRoute(app, trainingRoutes, 'listRuns', async (request) => {
    const principal = requestPrincipal(request)
    const { status, owner, datasetId, datasetVersionId, model, cursor, limit } = request.query
    const ownerId = listingOwner(principal, owner)
    const position = requestedPosition(request)
    if (position > 0) await deps.waitForRuns(position)
    return listRuns(deps.db, {
      ...(ownerId !== undefined ? { ownerId } : {}),
      ...(status ? { status } : {}),
      ...(datasetId ? { datasetId } : {}),
      ...(datasetVersionId ? { versionId: datasetVersionId } : {}),
      ...(model ? { model } : {}),
      ...(cursor ? { cursor } : {}),
      limit: limit ?? DEFAULT_PAGE_SIZE,
    })
  })

  serveRoute(app, trainingRoutes, 'listDeadLetters', async (request) => {
    const principal = requestPrincipal(request)
    if (!hasRole(principal, 'analyst')) assertAdmin(principal, 'the dead-letter list')
    const { cursor, limit } = request.query
    return listRuns(deps.db, {
      status: 'DEAD_LETTERED',
      oldestFirst: true,
      ...(cursor ? { cursor } : {}),
      limit: limit ?? DEFAULT_PAGE_SIZE,
    })
  })

  serveRoute(app, trainingRoutes, 'getRun', async (request) => {
    return visibleRun(
      deps,
      requestPrincipal(request),
      request.params.runId,
      requestedPosition(request),
    )
  })

  serveRoute(app, trainingRoutes, 'cancelRun', async (request) => {
    const { runId } = request.params
    const { position } = await cancelRun(deps, requestPrincipal(request), runId)
    return { position, run: await runAt(deps, runId, position) }
  })

  serveRoute(app, trainingRoutes, 'retryRun', async (request) => {
    const { runId } = request.params
    const { position } = await retryDeadLettered(deps, requestPrincipal(request), runId)
    return { position, run: await runAt(deps, runId, position) }
  })

  serveRoute(app, trainingRoutes, 'discardRun', async (request) => {
    const { runId } = request.params
    const { position } = await discardDeadLettered(deps, requestPrincipal(request), runId)
    return { position, run: await runAt(deps, runId, position) }
  })

  serveRoute(app, trainingRoutes, 'getRunLogs', async (request) => {
    const { attempt, lines } = request.query
    return runLogs(deps, requestPrincipal(request), request.params.runId, {
      ...(attempt !== undefined ? { attempt } : {}),
      ...(lines !== undefined ? { lines } : {}),
    })
  })

  serveRoute(app, trainingRoutes, 'getRunMetrics', async (request) => {
    const { runId } = request.params
    await readableRun(deps, requestPrincipal(request), runId)
    const { attempt, cursor, limit } = request.query
    return metricsHistory(deps.db, runId, {
      ...(attempt !== undefined ? { attempt } : {}),
      ...(cursor ? { cursor } : {}),
      limit: limit ?? 1000,
    })
  })
}
