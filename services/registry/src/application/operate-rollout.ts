import { requireRole, type Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import { actorId, handleCommand, loadAggregate } from '@argmax/events'
import { modelOfRollout, releaseDecider, rolloutDecider, type Rollout } from '../domain/index.ts'
import { releaseSubject, rolloutSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'

export type RolloutOperation = 'pause' | 'resume' | 'approve' | 'abort' | 'rollback'

const COMMANDS = {
  pause: 'PauseRollout',
  resume: 'ResumeRollout',
  approve: 'ApproveRollout',
  abort: 'AbortRollout',
  rollback: 'RollbackRollout',
} as const

/**
 * An operator's decision on a rollout: admins only (users and analysts 403, whoever owns the
 * model). Recorded with who and why; the worker does what it implies for the release.
 */
export async function operateRollout(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  id: string,
  operation: RolloutOperation,
  reason: string,
): Promise<{ rollout: Rollout; position: number }> {
  requireRole(principal, 'admin')
  const model = modelOfRollout(id)
  if (!model) throw new NotFoundError('rollout', id)
  const data = { model, rolloutId: id, by: actorId(principal), reason, now: deps.now() }
  const subject = rolloutSubject(deps.names, model)
  const outcome =
    operation === 'rollback'
      ? await handleCommand(
          deps.store,
          rolloutDecider,
          subject,
          {
            type: 'RollbackRollout',
            data: { ...data, currentStable: await currentStable(deps, model) },
          },
          { actor: principal },
        )
      : await handleCommand(
          deps.store,
          rolloutDecider,
          subject,
          { type: COMMANDS[operation], data },
          { actor: principal },
        )
  return { rollout: outcome.state.rollouts[id]!, position: outcome.position }
}

async function currentStable(deps: Pick<RegistryDeps, 'store' | 'names'>, model: string) {
  const { state } = await loadAggregate(
    deps.store,
    releaseDecider,
    releaseSubject(deps.names, model),
  )
  return state.current?.stable ?? null
}
