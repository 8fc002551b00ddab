import { schedulePeriodic, type PeriodicTask } from '@argmax/service'
import type { RegistryDeps } from '../application/dependencies.ts'
import { purgeDeleted, type PurgeOptions, type PurgeReport } from '../application/purge-deleted.ts'

/** The purge of deleted models and stale uploads, every `intervalMs` (0: on demand only). */
export function schedulePurge(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'bucket' | 'now'>,
  options: PurgeOptions & {
    intervalMs: number
    log?: (fields: Record<string, unknown>, message: string) => void
  },
): PeriodicTask<PurgeReport> {
  return schedulePeriodic(() => purgeDeleted(deps, options), {
    name: 'purge',
    intervalMs: options.intervalMs,
    worthLogging: (report) =>
      report.models.length +
        report.versions.length +
        report.abortedUploads.length +
        report.failures.length >
      0,
    ...(options.log ? { log: options.log } : {}),
  })
}
