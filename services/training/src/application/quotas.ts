import { hasRole, type Principal } from '@argmax/auth'
import { ForbiddenError } from '@argmax/errors'
import { handleCommand, loadAggregate, type CommandOptions } from '@argmax/events'
import type { QuotaView } from '../api/contract.ts'
import {
  effectiveLimits,
  quotaDecider,
  quotaUsage,
  runDecider,
  type QuotaLimits,
  type QuotaCommand,
  type QuotaOverride,
  type QuotaState,
} from '../domain/index.ts'
import { findOrphanAdmissions } from '../projections/runs.queries.ts'
import { quotaSubject, runSubject } from '../streams.ts'
import { assertAdmin } from './access.ts'
import type { TrainingDeps } from './dependencies.ts'

type Deps = Pick<TrainingDeps, 'store' | 'names' | 'now' | 'settings' | 'userQueue'>

/** A user's limits and usage, from the quota aggregate itself (never behind). */
export async function getQuota(
  deps: Deps,
  principal: Principal,
  userId: string,
): Promise<QuotaView> {
  if (
    userId !== principal.subject &&
    !hasRole(principal, 'admin') &&
    !hasRole(principal, 'analyst')
  ) {
    throw new ForbiddenError("only admins and analysts see other users' quotas")
  }
  const { state } = await loadAggregate(deps.store, quotaDecider, quotaSubject(deps.names, userId))
  // The caller's own role decides their defaults; roles of others are not known here (they
  // come with tokens), so their limits are shown with the `user` defaults under the override.
  const own = userId === principal.subject
  const defaults =
    own && (hasRole(principal, 'internal') || hasRole(principal, 'admin'))
      ? deps.settings.quotas.internal
      : deps.settings.quotas.user
  return viewOf(userId, state, defaults, deps.now())
}

/** Admins set a user's own limits; null or absent falls back to the role default. */
export async function setQuotaOverride(
  deps: Deps,
  principal: Principal,
  userId: string,
  body: { concurrent?: number | null; hourly?: number | null; daily?: number | null },
): Promise<QuotaView> {
  assertAdmin(principal, "setting a user's quota")
  const override: QuotaOverride = {}
  for (const key of ['concurrent', 'hourly', 'daily'] as const) {
    const value = body[key]
    if (value !== undefined && value !== null) override[key] = value
  }
  const outcome = await onQuota(
    deps,
    userId,
    { type: 'SetOverride', data: { userId, override, by: principal.subject, now: deps.now() } },
    { actor: principal },
  )
  return viewOf(userId, outcome.state, deps.settings.quotas.user, deps.now())
}

/** A command on `userId`'s quota, queued behind that user's others: they never race. */
function onQuota(
  deps: Pick<Deps, 'store' | 'names' | 'userQueue'>,
  userId: string,
  command: QuotaCommand,
  options: CommandOptions<QuotaState>,
) {
  return deps.userQueue.run(userId, () =>
    handleCommand(deps.store, quotaDecider, quotaSubject(deps.names, userId), command, options),
  )
}

function viewOf(userId: string, state: QuotaState, defaults: QuotaLimits, now: Date): QuotaView {
  return {
    userId,
    limits: effectiveLimits(defaults, state.override),
    override: state.override,
    usage: quotaUsage(state, now),
    activeRuns: Object.keys(state.active),
  }
}

/** A run ended (or was dead-lettered): its owner's slot is free again. Idempotent per run. */
export async function releaseSlot(
  deps: Pick<Deps, 'store' | 'names' | 'now' | 'userQueue'>,
  userId: string,
  runId: string,
  reason: 'finished' | 'orphaned',
  causationId?: string,
): Promise<number> {
  const outcome = await onQuota(
    deps,
    userId,
    { type: 'Release', data: { userId, runId, reason, now: deps.now() } },
    { actor: 'system:quota', ...(causationId ? { causationId } : {}) },
  )
  return outcome.written
}

/**
 * A run holds a slot without its submission counting: one found queued without an admission
 * (reconciled), or a dead-lettered run an admin retried. Idempotent per run.
 */
export async function holdSlot(
  deps: Pick<Deps, 'store' | 'names' | 'now' | 'userQueue'>,
  userId: string,
  runId: string,
  reason: 'reconciled' | 'admin_retry',
  causationId?: string,
): Promise<number> {
  const outcome = await onQuota(
    deps,
    userId,
    { type: 'AdmitWithoutCounting', data: { userId, runId, reason, now: deps.now() } },
    { actor: 'system:quota', ...(causationId ? { causationId } : {}) },
  )
  return outcome.written
}

/**
 * Admissions whose run was never written — the submitting process died between the two
 * appends — release their slot once older than the grace period. Candidates come from the
 * projections; each is confirmed on the run's own subject before anything is written.
 */
export async function releaseOrphans(
  deps: Pick<TrainingDeps, 'store' | 'names' | 'now' | 'userQueue' | 'db' | 'settings'>,
): Promise<string[]> {
  const cutoff = new Date(deps.now().getTime() - deps.settings.orphanGraceMs)
  const released: string[] = []
  for (const { userId, runId } of await findOrphanAdmissions(deps.db, cutoff)) {
    const { state } = await loadAggregate(deps.store, runDecider, runSubject(deps.names, runId))
    if (state.status !== 'absent') continue
    if ((await releaseSlot(deps, userId, runId, 'orphaned')) > 0) released.push(runId)
  }
  return released
}
