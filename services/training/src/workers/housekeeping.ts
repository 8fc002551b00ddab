import { schedulePeriodic, type PeriodicTask } from '@argmax/service'
import type { TrainingDeps } from '../application/dependencies.ts'
import { archiveFinishedRuns, type ArchiveReport } from '../application/archive-runs.ts'
import { releaseOrphans } from '../application/quotas.ts'

export type Housekeeping = PeriodicTask<{ archive: ArchiveReport; orphansReleased: string[] }>

/**
 * Every `intervalMs` (0: only when asked): finished runs past the retention are archived to
 * S3 and leave the read model; admissions whose run was never written give their slot back.
 * Both are decided on the aggregates, so two replicas doing this at once decide nothing twice.
 */
export function startHousekeeping(
  deps: TrainingDeps,
  options: { intervalMs: number },
): Housekeeping {
  return schedulePeriodic(
    async () => {
      const orphansReleased = await releaseOrphans(deps)
      const archive = await archiveFinishedRuns(deps)
      return { archive, orphansReleased }
    },
    {
      name: 'training housekeeping',
      intervalMs: options.intervalMs,
      worthLogging: (report) =>
        report.archive.archived.length +
          report.archive.failures.length +
          report.orphansReleased.length >
        0,
      log: (fields, message) => deps.logger.info(fields, message),
      warn: (fields, message) => deps.logger.warn(fields, message),
    },
  )
}
