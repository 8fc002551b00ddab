import type { Principal } from '@argmax/auth'
import { handleCommand } from '@argmax/events'
import { requireRun, runDecider, type RunState } from '../domain/index.ts'
import { runSubject } from '../streams.ts'
import { assertAdmin } from './access.ts'
import type { TrainingDeps } from './dependencies.ts'

type Deps = Pick<TrainingDeps, 'store' | 'names' | 'now' | 'settings' | 'wakeup'>

/**
 * An admin's answers to a dead-lettered run: another round of attempts (back in the queue at
 * its own priority, holding a slot of its owner again — the quota consumer records it), or
 * giving up (it ends FAILED, `max_attempts`).
 */
export async function retryDeadLettered(
  deps: Deps,
  principal: Principal,
  runId: string,
): Promise<{ position: number; state: RunState }> {
  assertAdmin(principal, 'retrying a dead-lettered run')
  const outcome = await handleCommand(
    deps.store,
    runDecider,
    runSubject(deps.names, runId),
    {
      type: 'RetryDeadLettered',
      data: {
        runId,
        by: principal.subject,
        maxAttempts: deps.settings.retry.maxAttempts,
        now: deps.now(),
      },
    },
    { actor: principal, guard: (state) => void requireRun(state, runId) },
  )
  deps.wakeup.wake()
  return { position: outcome.position, state: outcome.state }
}

export async function discardDeadLettered(
  deps: Deps,
  principal: Principal,
  runId: string,
): Promise<{ position: number; state: RunState }> {
  assertAdmin(principal, 'discarding a dead-lettered run')
  const outcome = await handleCommand(
    deps.store,
    runDecider,
    runSubject(deps.names, runId),
    { type: 'DiscardDeadLettered', data: { runId, by: principal.subject, now: deps.now() } },
    { actor: principal, guard: (state) => void requireRun(state, runId) },
  )
  return { position: outcome.position, state: outcome.state }
}
