import type { DatasetDeps } from '../application/dependencies.ts'
import {
  purgeDeletedDatasets,
  type PurgeOptions,
  type PurgeReport,
} from '../application/purge-deleted-datasets.ts'

export interface PurgeScheduler {
  /** One run now (also what the timer calls); concurrent calls share the run in progress. */
  runOnce(): Promise<PurgeReport>
  stop(): Promise<void>
}

/**
 * Runs the purge every `intervalMs` (0 = never on its own; `runOnce` still works). Runs never
 * overlap, and a failed run is logged and retried at the next tick.
 */
export function schedulePurge(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'db' | 's3' | 'bucket' | 'now'>,
  options: PurgeOptions & {
    intervalMs: number
    log?: (fields: Record<string, unknown>, message: string) => void
  },
): PurgeScheduler {
  const log = options.log ?? (() => undefined)
  let running: Promise<PurgeReport> | undefined
  const runOnce = () => {
    running ??= purgeDeletedDatasets(deps, options).finally(() => {
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
                report.purged.length + report.abortedUploads.length + report.failures.length >
                0
              ) {
                log({ ...report }, 'purge run')
              }
            },
            (error: unknown) => log({ err: String(error) }, 'purge run failed'),
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
