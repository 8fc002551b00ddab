import type { Principal } from '@argmax/auth'
import type { Release } from '@argmax/contracts'
import { IllegalStateError, NotFoundError, ValidationError } from '@argmax/errors'
import { handleCommand, loadAggregate } from '@argmax/events'
import {
  nextRolloutAction,
  releaseDecider,
  rolloutDecider,
  sameRelease,
  type Rollout,
  type RolloutAction,
  type RolloutCommand,
  type RolloutEvent,
} from '../domain/index.ts'
import { releaseSubject, rolloutSubject } from '../streams.ts'
import { annotateVersion } from './annotate-version.ts'
import { changeRelease } from './change-release.ts'
import type { RegistryDeps } from './dependencies.ts'
import { readStepSignals } from './rollout-signals.ts'

/** Who the worker's release changes and annotations are recorded as. */
export const ROLLOUTS_PRINCIPAL: Principal = { subject: 'system:rollouts', roles: ['admin'] }

type AdvanceDeps = Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'now' | 'newId' | 'signals'>

/** Actions in one advance: a passing step goes on to the next one's release at once. */
const MAX_ACTIONS = 8

/**
 * Does what the model's active rollout needs now, from its events: put a step's share into the
 * release, judge a step whose window has been held, promote, or revert. Each act on the release
 * comes before the event that records it and is idempotent (the same release again is no
 * change), so a process killed between the two does it again without a second change; the
 * decisions themselves are appended expecting the subject's sequence, so two workers never
 * decide twice. Returns the actions taken.
 */
export async function advanceRollout(deps: AdvanceDeps, model: string): Promise<string[]> {
  const taken: string[] = []
  for (let round = 0; round < MAX_ACTIONS; round++) {
    const { state } = await loadAggregate(
      deps.store,
      rolloutDecider,
      rolloutSubject(deps.names, model),
    )
    const rollout = state.active ? state.rollouts[state.active] : undefined
    if (!rollout) break
    const now = deps.now()
    const action = nextRolloutAction(rollout, now)
    if (action.kind === 'none') break
    const written = await act(deps, rollout, action, now)
    if (written === 0) break
    taken.push(action.kind)
  }
  return taken
}

async function act(
  deps: AdvanceDeps,
  r: Rollout,
  action: Exclude<RolloutAction, { kind: 'none' }>,
  now: Date,
): Promise<number> {
  const ids = { model: r.model, rolloutId: r.rolloutId }
  switch (action.kind) {
    case 'apply_step': {
      const current = await currentRelease(deps, r.model)
      const desired = withShadow(
        { stable: r.stable, canary: { version: r.candidate, percent: action.percent } },
        current,
        r.candidate,
      )
      if (!sameRelease(current, desired) && !servesOnlyOurCanary(r, current)) {
        return stop(deps, r, now, 'the release changed outside the rollout: it is left as it is')
      }
      const applied = await driveRelease(deps, r, desired, {
        reason: `rollout ${r.rolloutId}: step ${action.step + 1} of ${r.steps.length}, ${action.percent} % to version ${r.candidate}`,
        breaking: false,
      })
      if (!applied.ok) return stop(deps, r, now, applied.reason)
      return decide(deps, {
        type: 'MarkStepStarted',
        data: {
          ...ids,
          step: action.step,
          release: desired,
          releasePosition: applied.position,
          now,
        },
      })
    }
    case 'judge': {
      const signals = await readStepSignals(deps.signals, r, {
        from: action.from,
        to: now,
        minRequests: r.criteria.minRequests,
        ...(r.criteria.quality ? { quality: r.criteria.quality } : {}),
      })
      return decide(deps, { type: 'JudgeStep', data: { ...ids, step: action.step, signals, now } })
    }
    case 'promote': {
      const current = await currentRelease(deps, r.model)
      const desired = withShadow({ stable: r.candidate }, current, r.candidate)
      if (!sameRelease(current, desired) && !servesOnlyOurCanary(r, current)) {
        return stop(deps, r, now, 'the release changed outside the rollout: it is left as it is')
      }
      const applied = await driveRelease(deps, r, desired, {
        reason: `rollout ${r.rolloutId}: version ${r.candidate} passed every step and becomes stable (was ${r.stable})`,
        breaking: false,
      })
      if (!applied.ok) return stop(deps, r, now, applied.reason)
      return decide(deps, {
        type: 'MarkPromoted',
        data: { ...ids, release: desired, releasePosition: applied.position, now },
      })
    }
    case 'revert': {
      const current = await currentRelease(deps, r.model)
      const desired = withShadow({ stable: action.restore }, current, r.candidate)
      let release: Release | null = null
      let releasePosition: number | null = null
      const servesCandidate =
        current !== null &&
        (current.stable === r.candidate || current.canary?.version === r.candidate)
      if (!action.leaveRelease && (sameRelease(current, desired) || servesCandidate)) {
        // What served before is restored as it was, even if its schema differs from the
        // candidate's: nobody may be left on the rejected version.
        const applied = await driveRelease(deps, r, desired, {
          reason: `rollout ${r.rolloutId} ${action.outcome === 'aborted' ? 'aborted' : 'rolled back'}: version ${action.restore} serves alone again`,
          breaking: true,
        })
        if (applied.ok) {
          release = desired
          releasePosition = applied.position
        }
      }
      const annotationId =
        action.outcome === 'rolled_back' ? await annotateRejected(deps, r) : undefined
      return decide(deps, {
        type: 'MarkReverted',
        data: {
          ...ids,
          release,
          releasePosition,
          ...(annotationId ? { annotationId } : {}),
          now,
        },
      })
    }
    default: {
      const unknown: never = action
      return unknown
    }
  }
}

async function decide(deps: AdvanceDeps, command: RolloutCommand): Promise<number> {
  const outcome = await handleCommand(
    deps.store,
    rolloutDecider,
    rolloutSubject(deps.names, command.data.model),
    command,
    { actor: ROLLOUTS_PRINCIPAL },
  )
  return outcome.written
}

function stop(deps: AdvanceDeps, r: Rollout, now: Date, reason: string): Promise<number> {
  return decide(deps, {
    type: 'StopRollout',
    data: { model: r.model, rolloutId: r.rolloutId, by: ROLLOUTS_PRINCIPAL.subject, reason, now },
  })
}

async function currentRelease(deps: AdvanceDeps, model: string): Promise<Release | null> {
  const { state } = await loadAggregate(
    deps.store,
    releaseDecider,
    releaseSubject(deps.names, model),
  )
  return state.current
}

/** The release as the rollout left it: its stable version, no canary or its own canary. */
function servesOnlyOurCanary(r: Rollout, current: Release | null): boolean {
  return (
    current !== null &&
    current.stable === r.stable &&
    (current.canary === undefined || current.canary.version === r.candidate)
  )
}

/** A shadow version configured by hand keeps shadowing (unless it is the candidate). */
function withShadow(release: Release, current: Release | null, candidate: number): Release {
  const shadow = current?.shadow
  return shadow !== undefined && shadow !== candidate && shadow !== release.stable
    ? { ...release, shadow }
    : release
}

/**
 * Changes the release (nothing when it already is `desired`) and answers the release's
 * position. A change the release refuses (a version deleted, an artifact gone, a schema that
 * changed) stops the rollout with the reason rather than retrying forever.
 */
async function driveRelease(
  deps: AdvanceDeps,
  r: Rollout,
  desired: Release,
  options: { reason: string; breaking: boolean },
): Promise<{ ok: true; position: number } | { ok: false; reason: string }> {
  try {
    const { position } = await changeRelease(deps, ROLLOUTS_PRINCIPAL, r.model, {
      stable: desired.stable,
      ...(desired.canary ? { canary: desired.canary } : {}),
      ...(desired.shadow !== undefined ? { shadow: desired.shadow } : {}),
      reason: options.reason,
      breaking: options.breaking,
    })
    return { ok: true, position }
  } catch (error) {
    if (isRefusal(error)) {
      return { ok: false, reason: `the release refused the rollout's change: ${error.message}` }
    }
    throw error
  }
}

/**
 * The candidate is annotated `rollout_rejected` with the evidence (the failing judgement, or
 * the operator's rollback), once: the annotation's id comes from the rollout's.
 */
async function annotateRejected(deps: AdvanceDeps, r: Rollout): Promise<string | undefined> {
  const events = (await deps.store.load(rolloutSubject(deps.names, r.model)))
    .map((recorded) => ({ type: recorded.type, data: recorded.data }) as RolloutEvent)
    .filter((event) => event.data.rolloutId === r.rolloutId)
  const failed = events.findLast(
    (e): e is Extract<RolloutEvent, { type: 'RolloutStepJudged' }> =>
      e.type === 'RolloutStepJudged' && e.data.verdict === 'fail',
  )
  const requested = events.findLast(
    (e): e is Extract<RolloutEvent, { type: 'RolloutRollbackRequested' }> =>
      e.type === 'RolloutRollbackRequested',
  )
  const input = failed
    ? {
        kind: 'rollout_rejected',
        text: `rolled back by rollout ${r.rolloutId} at step ${failed.data.step + 1} (${failed.data.percent} %): ${failed.data.reasons.join('; ')}`,
        data: {
          rolloutId: r.rolloutId,
          step: failed.data.step,
          percent: failed.data.percent,
          checks: failed.data.checks,
          signals: failed.data.signals,
          reasons: failed.data.reasons,
        },
      }
    : {
        kind: 'rollout_rejected',
        text: `rolled back by ${requested?.data.by ?? 'an operator'} during rollout ${r.rolloutId}: ${requested?.data.reason ?? ''}`,
        data: {
          rolloutId: r.rolloutId,
          by: requested?.data.by ?? null,
          from: requested?.data.from ?? null,
          reason: requested?.data.reason ?? null,
        },
      }
  try {
    const { annotationId } = await annotateVersion(
      deps,
      ROLLOUTS_PRINCIPAL,
      r.model,
      String(r.candidate),
      input,
      `rollout:${r.rolloutId}:rejected`,
    )
    return annotationId
  } catch (error) {
    // A model deleted meanwhile takes no annotation; the rollout still ends.
    if (isRefusal(error)) return undefined
    throw error
  }
}

/** A business refusal (not a conflict to retry, not an outage): the rollout cannot go on. */
function isRefusal(error: unknown): error is Error {
  return (
    error instanceof ValidationError ||
    error instanceof NotFoundError ||
    error instanceof IllegalStateError
  )
}
