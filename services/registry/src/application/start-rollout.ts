import type { Principal } from '@argmax/auth'
import { IllegalStateError, NotFoundError, ValidationError } from '@argmax/errors'
import { actorId, handleCommand, identifyCreate } from '@argmax/events'
import {
  DEFAULT_ROLLOUT_CRITERIA,
  DEFAULT_ROLLOUT_STEPS,
  isQualityMetric,
  QUALITY_METRICS,
  rolloutDecider,
  type QualityCriteria,
  type Rollout,
  type RolloutCriteria,
} from '../domain/index.ts'
import { rolloutSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { changeableModel } from './model-access.ts'
import { resolveVersionFromEvents } from './resolve-version.ts'

export interface StartRolloutInput {
  model: string
  /** A version number or an alias (`challenger`). */
  candidate: string
  steps?: number[]
  criteria?: Partial<Omit<RolloutCriteria, 'quality'>> & {
    /** The direction may be left out: it follows from the metric. */
    quality?: Omit<QualityCriteria, 'direction'> & Partial<Pick<QualityCriteria, 'direction'>>
  }
  requireApproval?: boolean
  reason: string
}

/**
 * Starts a canary of `candidate` against the model's stable version. The owner (or an admin)
 * starts it; the worker then drives the release step by step. The stable version is read from
 * the release now; if the release moves before the first step, the worker stops the rollout.
 */
export async function startRollout(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'now' | 'newId' | 'signals'>,
  principal: Principal,
  input: StartRolloutInput,
  idempotencyKey?: string,
): Promise<{ rollout: Rollout; position: number; created: boolean }> {
  const { model } = input
  const loaded = await changeableModel(deps, principal, model)
  if (loaded.state.status === 'deleted') {
    throw new IllegalStateError(`model ${model} is deleted: it cannot be rolled out`)
  }
  const { version, release } = await resolveVersionFromEvents(
    deps,
    model,
    loaded.state,
    input.candidate,
  )
  const record = loaded.state.versions[version]
  if (!record || record.status === 'purged')
    throw new NotFoundError('version', `${model}/${version}`)
  if (record.status !== 'active') {
    throw new IllegalStateError(`version ${version} of ${model} is deleted: it cannot be served`)
  }
  const { quality: qualityInput, ...limits } = input.criteria ?? {}
  const criteria: RolloutCriteria = { ...DEFAULT_ROLLOUT_CRITERIA, ...limits }
  if (qualityInput) {
    const known = isQualityMetric(qualityInput.metric) ? QUALITY_METRICS[qualityInput.metric] : null
    if (known && known.task !== record.task) {
      throw ValidationError.field(
        'criteria/quality/metric',
        `${qualityInput.metric} is a ${known.task} metric; version ${version} of ${model} is a ${record.task} model`,
      )
    }
    // An unknown metric is left to the decider, which names the ones there are.
    criteria.quality = {
      ...qualityInput,
      direction: qualityInput.direction ?? known?.direction ?? 'lower_is_better',
    }
    if (!deps.signals.quality) {
      throw ValidationError.field(
        'criteria/quality',
        'this registry has no source of labelled quality signals: judge on error rate and latency',
      )
    }
  }
  const { id, requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: `registry.${model}.rollout`,
    request: input,
    newId: deps.newId,
  })
  const outcome = await handleCommand(
    deps.store,
    rolloutDecider,
    rolloutSubject(deps.names, model),
    {
      type: 'StartRollout',
      data: {
        model,
        candidate: version,
        stable: release.current?.stable ?? null,
        steps: input.steps ?? [...DEFAULT_ROLLOUT_STEPS],
        criteria,
        requireApproval: input.requireApproval ?? false,
        startedBy: actorId(principal),
        reason: input.reason,
        now: deps.now(),
        idempotencyId: id,
        ...(requestHash !== undefined ? { requestHash } : {}),
      },
    },
    { actor: principal },
  )
  const rolloutId = outcome.state.keys[id]!
  return {
    rollout: outcome.state.rollouts[rolloutId]!,
    position: outcome.position,
    created: outcome.written > 0,
  }
}
