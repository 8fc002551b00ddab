import { canAccess, canWrite, hasRole, type Principal } from '@argmax/auth'
import { ForbiddenError, NotFoundError } from '@argmax/errors'
import { loadAggregate } from '@argmax/events'
import { requireRun, runDecider, type RunRecord } from '../domain/index.ts'
import { runSubject } from '../streams.ts'
import type { TrainingDeps } from './dependencies.ts'

/**
 * Ownership rules of the training context. Someone else's run is answered 404, not 403: its
 * existence is not the caller's business. Analysts see every run and change none (403).
 */
export function assertCanRead(principal: Principal, ownerId: string, runId: string): void {
  if (!canAccess(principal, ownerId, 'read')) throw new NotFoundError('run', runId)
}

export function assertCanChange(principal: Principal, ownerId: string, runId: string): void {
  assertCanRead(principal, ownerId, runId)
  if (!canWrite(principal)) throw new ForbiddenError('the analyst role is read-only')
  if (!canAccess(principal, ownerId, 'write')) throw new NotFoundError('run', runId)
}

export function assertAdmin(principal: Principal, what: string): void {
  if (!hasRole(principal, 'admin')) throw new ForbiddenError(`${what} is for admins`)
}

/** Owner filter for listings: undefined means every owner. */
export function listingOwner(
  principal: Principal,
  requested: string | undefined,
): string | undefined {
  const seesAll = hasRole(principal, 'admin') || hasRole(principal, 'analyst')
  if (seesAll) return requested
  if (requested !== undefined && requested !== principal.subject) {
    throw new ForbiddenError("only admins and analysts list other users' runs")
  }
  return principal.subject
}

/** The run from its events, if the caller may see it (404 otherwise). */
export async function readableRun(
  deps: Pick<TrainingDeps, 'store' | 'names'>,
  principal: Principal,
  runId: string,
): Promise<{ run: RunRecord; position: number }> {
  const { state, position } = await loadAggregate(
    deps.store,
    runDecider,
    runSubject(deps.names, runId),
  )
  if (state.status === 'absent' || state.archived) throw new NotFoundError('run', runId)
  const run = requireRun(state, runId)
  assertCanRead(principal, run.queued.ownerId, runId)
  return { run, position }
}
