import type { Principal } from '@argmax/auth'
import { handleCommand } from '@argmax/events'
import { requireRun, runDecider, type RunState } from '../domain/index.ts'
import { runSubject } from '../streams.ts'
import { assertCanChange } from './access.ts'
import type { TrainingDeps } from './dependencies.ts'

/**
 * Cancels a PENDING or TRAINING run. The decision is the event; the job is killed right after
 * when this process's runner holds it, and in any case by the scheduler, which kills every job
 * whose run is no longer training it — so a crash between the two leaves no job running.
 */
export async function cancelRun(
  deps: Pick<TrainingDeps, 'store' | 'names' | 'now' | 'runner' | 'wakeup' | 'logger'>,
  principal: Principal,
  runId: string,
): Promise<{ position: number; state: RunState }> {
  const outcome = await handleCommand(
    deps.store,
    runDecider,
    runSubject(deps.names, runId),
    { type: 'CancelRun', data: { runId, by: principal.subject, now: deps.now() } },
    {
      actor: principal,
      guard: (state) => {
        if (state.status === 'absent' || state.archived) requireRun({ status: 'absent' }, runId)
        else assertCanChange(principal, state.queued.ownerId, runId)
      },
    },
  )
  const cancelled = outcome.events.find((e) => e.type === 'TrainingRunCancelled')
  const attempt = cancelled?.type === 'TrainingRunCancelled' ? cancelled.data.attempt : null
  if (attempt !== null) {
    try {
      const job = (await deps.runner.list()).find((j) => j.runId === runId && j.attempt === attempt)
      if (job) await deps.runner.cancel(job)
    } catch (error) {
      // The scheduler kills it on its next round.
      deps.logger.warn(
        { runId, attempt, err: String(error) },
        'could not kill the cancelled job yet',
      )
    }
  }
  deps.wakeup.wake()
  return { position: outcome.position, state: outcome.state }
}
