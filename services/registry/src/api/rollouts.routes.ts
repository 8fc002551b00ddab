import type { FastifyInstance } from 'fastify'
import { idempotencyKeyOf, requestPrincipal, serveRoute } from '@argmax/http'
import { listingOwner } from '../application/access.ts'
import type { RegistryDeps } from '../application/dependencies.ts'
import { operateRollout, type RolloutOperation } from '../application/operate-rollout.ts'
import { readRollout } from '../application/read-rollout.ts'
import { startRollout } from '../application/start-rollout.ts'
import type { Rollout } from '../domain/index.ts'
import { listRollouts } from '../projections/rollouts.queries.ts'
import { registryRoutes } from './contract.ts'
import type { RolloutView } from './rollouts.contract.ts'

/** `/v1/rollouts/**`: start (owner or admin), read (whoever sees the model), operate (admin). */
export function registerRolloutRoutes(app: FastifyInstance, deps: RegistryDeps): void {
  serveRoute(app, registryRoutes, 'startRollout', async (request, reply) => {
    const { body } = request
    const { rollout, position } = await startRollout(
      deps,
      requestPrincipal(request),
      {
        model: body.model,
        candidate: body.candidate,
        reason: body.reason,
        ...(body.steps ? { steps: body.steps } : {}),
        ...(body.criteria ? { criteria: body.criteria } : {}),
        ...(body.requireApproval !== undefined ? { requireApproval: body.requireApproval } : {}),
      },
      idempotencyKeyOf(request),
    )
    reply.code(201).header('location', `/v1/rollouts/${rollout.rolloutId}`)
    return { position, rollout: rolloutView(rollout) }
  })

  serveRoute(app, registryRoutes, 'listRollouts', async (request) => {
    const { model, state, limit } = request.query
    const ownerId = listingOwner(requestPrincipal(request))
    const items = await listRollouts(deps.db, {
      limit: limit ?? 50,
      ...(ownerId !== undefined ? { ownerId } : {}),
      ...(model ? { model } : {}),
      ...(state ? { state } : {}),
    })
    return { items: items.map(rolloutView) }
  })

  serveRoute(app, registryRoutes, 'getRollout', async (request) => {
    const { rollout, timeline } = await readRollout(
      deps,
      requestPrincipal(request),
      request.params.id,
    )
    return { rollout: rolloutView(rollout), timeline }
  })

  const operations = {
    pauseRollout: 'pause',
    resumeRollout: 'resume',
    approveRollout: 'approve',
    abortRollout: 'abort',
    rollbackRollout: 'rollback',
  } as const satisfies Record<string, RolloutOperation>
  for (const [route, operation] of Object.entries(operations) as Array<
    [keyof typeof operations, RolloutOperation]
  >) {
    serveRoute(app, registryRoutes, route, async (request) => {
      const { rollout, position } = await operateRollout(
        deps,
        requestPrincipal(request),
        request.params.id,
        operation,
        request.body.reason,
      )
      return { position, rollout: rolloutView(rollout) }
    })
  }
}

export function rolloutView(r: Rollout): RolloutView {
  return {
    rolloutId: r.rolloutId,
    model: r.model,
    candidate: r.candidate,
    stable: r.stable,
    steps: r.steps,
    criteria: r.criteria,
    requireApproval: r.requireApproval,
    startedBy: r.startedBy,
    startedAt: r.startedAt,
    reason: r.reason,
    status: r.status,
    step: r.step,
    percent: r.steps[r.step] ?? 100,
    stepStartedAt: r.stepStartedAt,
    windowStartedAt: r.windowStartedAt,
    previousStable: r.previousStable,
    updatedAt: r.updatedAt,
    endedAt: r.endedAt,
  }
}
