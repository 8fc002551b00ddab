import { loadAggregate, handleCommand } from '@argmax/events'
import { Cron } from 'croner'
import { pipelineDecider } from '../domain/index.ts'
import { pipelineSubject } from '../streams.ts'
import type { PipelineDeps } from './pipeline-steps.ts'

/**
 * Fires a pipeline's cron schedule: the latest slot due since the last one fired (or since the
 * pipeline was created) becomes a `schedule` trigger naming the slot. The decider starts one run
 * per slot whoever ticks, so replicas ticking together start it once; slots missed while the
 * service was down collapse into the latest.
 */
export async function fireSchedule(deps: PipelineDeps, model: string): Promise<boolean> {
  const subject = pipelineSubject(deps.names, model)
  const { state } = await loadAggregate(deps.store, pipelineDecider, subject)
  if (state.status !== 'present' || state.config.triggers.schedule === null) return false
  const now = deps.now()
  const slot = latestDueSlot(
    state.config.triggers.schedule,
    new Date(state.lastScheduleSlot ?? state.createdAt),
    now,
  )
  if (slot === null) return false
  const outcome = await handleCommand(
    deps.store,
    pipelineDecider,
    subject,
    {
      type: 'Trigger',
      data: {
        trigger: {
          kind: 'schedule',
          by: 'system:schedule',
          reason: `schedule ${state.config.triggers.schedule}`,
          evidence: { schedule: state.config.triggers.schedule },
          slot: slot.toISOString(),
          at: now.toISOString(),
        },
        now,
      },
    },
    { actor: 'system:schedule' },
  )
  return outcome.written > 0
}

/** The last slot of `cron` in (after, now], or null. Invalid expressions never fire. */
export function latestDueSlot(cron: string, after: Date, now: Date): Date | null {
  let schedule: Cron
  try {
    schedule = new Cron(cron, { timezone: 'UTC', paused: true })
  } catch {
    return null
  }
  let due: Date | null = null
  let next = schedule.nextRun(after)
  // Bounded: a schedule every minute over a week of downtime is 10,080 slots.
  for (let i = 0; next !== null && next <= now && i < 100_000; i += 1) {
    due = next
    next = schedule.nextRun(next)
  }
  return due
}
