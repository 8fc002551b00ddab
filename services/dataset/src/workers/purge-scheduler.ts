import { schedulePeriodic, type PeriodicTask } from '@argmax/service'
import type { DatasetDeps } from '../application/dependencies.ts'
import {
  purgeDeletedDatasets,
  type PurgeOptions,
  type PurgeReport,
} from '../application/purge-deleted-datasets.ts'

/** The purge of deleted datasets and stale uploads, every `intervalMs` (0: on demand only). */
export function schedulePurge(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'db' | 's3' | 'bucket' | 'now'>,
  options: PurgeOptions & {
    intervalMs: number
    log?: (fields: Record<string, unknown>, message: string) => void
  },
): PeriodicTask<PurgeReport> {
  return schedulePeriodic(() => purgeDeletedDatasets(deps, options), {
    name: 'purge',
    intervalMs: options.intervalMs,
    worthLogging: (report) =>
      report.purged.length + report.abortedUploads.length + report.failures.length > 0,
    ...(options.log ? { log: options.log } : {}),
  })
}
