import { schedulePeriodic, type PeriodicTask } from '@argmax/service'
import { advanceRollout } from '../application/advance-rollout.ts'
import type { RegistryDeps } from '../application/dependencies.ts'
import { modelsWithActiveRollouts } from '../projections/rollouts.queries.ts'

export type RolloutTicker = PeriodicTask<RolloutTickReport>

export interface RolloutTickReport {
  /** Model → the actions taken for its rollout (apply_step, judge, promote, revert). */
  advanced: Record<string, string[]>
  failures: Array<{ model: string; error: string }>
}

/**
 * Drives the rollouts in progress every `intervalMs` (0: only through `runOnce`). Everything it
 * knows comes from the events at each pass (the projection only says which models to look
 * at), so a restarted registry goes on where the last one stopped, with its injected clock
 * deciding whether a step's window has been held. Passes never overlap; a model whose pass
 * failed (ClickHouse down: 503) is tried again at the next one.
 */
export function startRolloutTicker(
  deps: RegistryDeps,
  options: { intervalMs: number; log?: (fields: Record<string, unknown>, message: string) => void },
): RolloutTicker {
  const pass = async (): Promise<RolloutTickReport> => {
    const report: RolloutTickReport = { advanced: {}, failures: [] }
    for (const model of await modelsWithActiveRollouts(deps.db)) {
      try {
        const actions = await advanceRollout(deps, model)
        if (actions.length > 0) report.advanced[model] = actions
      } catch (error) {
        report.failures.push({ model, error: String(error) })
      }
    }
    return report
  }
  const task = schedulePeriodic(pass, {
    name: 'rollouts',
    intervalMs: options.intervalMs,
    worthLogging: (report) => Object.keys(report.advanced).length > 0 || report.failures.length > 0,
    ...(options.log ? { log: options.log } : {}),
  })
  return {
    runOnce: task.runOnce,
    async stop() {
      await task.stop()
      await deps.signals.close()
    },
  }
}
