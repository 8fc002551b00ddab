import type { TrainingDeps } from '../application/dependencies.ts'
import { archiveFinishedRuns, type ArchiveReport } from '../application/archive-runs.ts'
import { releaseOrphans } from '../application/quotas.ts'

export interface Housekeeping {
  /** One pass now (also what the timer calls); concurrent calls share the pass in progress. */
  runOnce(): Promise<{ archive: ArchiveReport; orphansReleased: string[] }>
  stop(): Promise<void>
}

/**
 * Every `intervalMs` (0: only when asked): finished runs past the retention are archived to
 * S3 and leave the read model; admissions whose run was never written give their slot back.
 * Both are decided on the aggregates, so two replicas doing this at once decide nothing twice.
 */
export function startHousekeeping(
  deps: TrainingDeps,
  options: { intervalMs: number },
): Housekeeping {
  let running: ReturnType<Housekeeping['runOnce']> | undefined
  const runOnce = () => {
    running ??= (async () => {
      const orphansReleased = await releaseOrphans(deps)
      const archive = await archiveFinishedRuns(deps)
      return { archive, orphansReleased }
    })().finally(() => {
      running = undefined
    })
    return running
  }
  const timer =
    options.intervalMs > 0
      ? setInterval(() => {
          runOnce().then(
            (report) => {
              if (
                report.archive.archived.length +
                  report.archive.failures.length +
                  report.orphansReleased.length >
                0
              ) {
                deps.logger.info({ ...report }, 'training housekeeping')
              }
            },
            (error: unknown) =>
              deps.logger.warn({ err: String(error) }, 'training housekeeping failed'),
          )
        }, options.intervalMs)
      : undefined
  timer?.unref()
  return {
    runOnce,
    async stop() {
      if (timer) clearInterval(timer)
      await running?.catch(() => undefined)
    },
  }
}
