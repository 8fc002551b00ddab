import type { Principal } from '@argmax/auth'
import type { Release } from '@argmax/contracts'
import { ConcurrencyError } from '@argmax/errors'
import { actorId, handleCommand } from '@argmax/events'
import {
  releaseDecider,
  servedVersions,
  type ReleaseCommand,
  type ReleaseFacts,
  type ReleaseState,
} from '../domain/index.ts'
import { releaseSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { restoreServedVersions } from './delete-version.ts'
import { assertModelAccess, loadModel } from './model-access.ts'
import { gatherReleaseFacts } from './release-facts.ts'

type ReleaseDeps = Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'now'>

export interface ChangeReleaseInput {
  stable: number
  canary?: { version: number; percent: number }
  shadow?: number
  reason: string
  breaking?: boolean
}

/** Attempts at deciding on facts gathered against the release as it is. */
const FACT_ROUNDS = 5

/**
 * Sets what serves the model. Facts about the versions (exist, not deleted, objects in storage,
 * signatures) are gathered first, then the change is decided and appended expecting the
 * release's last sequence, so concurrent changes never interleave: one wins, the other is
 * decided again on top of it (or refused, e.g. when the model was deleted meanwhile).
 */
export async function changeRelease(
  deps: ReleaseDeps,
  principal: Principal,
  model: string,
  input: ChangeReleaseInput,
): Promise<{ position: number; state: ReleaseState; written: number }> {
  const release: Release = {
    stable: input.stable,
    ...(input.canary ? { canary: input.canary } : {}),
    ...(input.shadow !== undefined ? { shadow: input.shadow } : {}),
  }
  return withFreshFacts(
    deps,
    principal,
    model,
    () => servedVersions(release),
    (facts) => ({
      type: 'ChangeRelease',
      data: {
        model,
        release,
        reason: input.reason,
        breaking: input.breaking ?? false,
        changedBy: actorId(principal),
        facts,
        now: deps.now(),
      },
    }),
  )
}

/** Restores the previous release exactly: one step back per call. */
export async function rollbackRelease(
  deps: ReleaseDeps,
  principal: Principal,
  model: string,
  reason: string,
): Promise<{ position: number; state: ReleaseState; written: number }> {
  return withFreshFacts(
    deps,
    principal,
    model,
    (current) => servedVersions(current.stack.at(-1) ?? null),
    (facts) => ({
      type: 'RollbackRelease',
      data: { model, reason, changedBy: actorId(principal), facts, now: deps.now() },
    }),
  )
}

/**
 * Gathers facts, checks the caller may change the model, decides and appends — again when the
 * release moved between gathering and appending (the decider says so with a ConcurrencyError).
 */
async function withFreshFacts(
  deps: ReleaseDeps,
  principal: Principal,
  model: string,
  versionsOf: (release: ReleaseState) => number[],
  command: (facts: ReleaseFacts) => ReleaseCommand,
): Promise<{ position: number; state: ReleaseState; written: number }> {
  for (let round = 1; ; round++) {
    const gathered = await gatherReleaseFacts(deps, model, versionsOf)
    assertModelAccess(gathered.model, principal, model, 'write')
    try {
      const outcome = await handleCommand(
        deps.store,
        releaseDecider,
        releaseSubject(deps.names, model),
        command(gathered.facts),
        { actor: principal, maxRetries: 0 },
      )
      if (outcome.written > 0) await repairDeletedServed(deps, model, outcome.state)
      return { position: outcome.position, state: outcome.state, written: outcome.written }
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || round >= FACT_ROUNDS) throw error
    }
  }
}

/**
 * A version deleted between gathering the facts and appending the release (its deletion checked
 * the release before this change landed) is restored: a release wins over a concurrent
 * deletion (see deleteVersion, which looks again from its side).
 */
async function repairDeletedServed(deps: ReleaseDeps, model: string, release: ReleaseState) {
  const { state } = await loadModel(deps, model)
  const deleted = servedVersions(release.current).filter(
    (version) => state.versions[version]?.status === 'deleted',
  )
  if (deleted.length > 0) await restoreServedVersions(deps, model, deleted)
}
