import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import type { RunDetailView, RunView } from '../api/contract.ts'
import { findRun, latestProgress, listAttempts } from '../projections/runs.queries.ts'
import { assertCanRead, readableRun } from './access.ts'
import type { TrainingDeps } from './dependencies.ts'

/**
 * A run as the read model has it once `position` is applied (0: as it is), with its attempts
 * and latest progress. With a position, access is checked on the events first (the read model
 * may not have the run yet): a caller who may not see it is refused at once, not after waiting.
 */
export async function visibleRun(
  deps: Pick<TrainingDeps, 'store' | 'names' | 'db' | 'waitForRuns'>,
  principal: Principal,
  runId: string,
  position: number,
): Promise<RunDetailView> {
  if (position > 0) {
    await readableRun(deps, principal, runId)
    await deps.waitForRuns(position)
  }
  const run = await findRun(deps.db, runId)
  if (!run) throw new NotFoundError('run', runId)
  assertCanRead(principal, run.ownerId, runId)
  const [attempts, progress] = await Promise.all([
    listAttempts(deps.db, runId),
    run.attempt > 0 ? latestProgress(deps.db, runId, run.attempt) : Promise.resolve(null),
  ])
  return { ...run, attempts, progress }
}

/** The run after a command (its reply), once the read model has applied the command's events. */
export async function runAt(
  deps: Pick<TrainingDeps, 'db' | 'waitForRuns'>,
  runId: string,
  position: number,
): Promise<RunView> {
  await deps.waitForRuns(position)
  const run = await findRun(deps.db, runId)
  if (!run) throw new NotFoundError('run', runId)
  return run
}
