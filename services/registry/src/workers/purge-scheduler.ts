import type { RegistryDeps } from '../application/dependencies.ts'
import { purgeDeleted, type PurgeOptions, type PurgeReport } from '../application/purge-deleted.ts'

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
  deps: Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'bucket' | 'now'>,
  options: PurgeOptions & {
    intervalMs: number
    log?: (fields: Record<string, unknown>, message: string) => void
  },
): PurgeScheduler {
  const log = options.log ?? (() => undefined)
  let running: Promise<PurgeReport> | undefined
  const runOnce = () => {
    running ??= purgeDeleted(deps, options).finally(() => {
      running = undefined
    })
    return running
  }
  const timer =
    options.intervalMs > 0
      ? setInterval(() => {
          runOnce().then(
            (report) => {
              const total =
                report.models.length +
                report.versions.length +
                report.abortedUploads.length +
                report.failures.length
              if (total > 0) log({ ...report }, 'purge run')
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
