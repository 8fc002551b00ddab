/** A background job run on a timer, and on demand (tests, operators). */
export interface PeriodicTask<Report> {
  /** One run now (also what the timer calls); concurrent calls share the run in progress. */
  runOnce(): Promise<Report>
  stop(): Promise<void>
}

/**
 * Runs `task` every `intervalMs` (0 = never on its own; `runOnce` still works). Runs never
 * overlap, and a failed run is logged and retried at the next tick. A report is logged only when
 * `worthLogging` says it did something, so an idle schedule stays quiet.
 */
export function schedulePeriodic<Report extends object>(
  task: () => Promise<Report>,
  options: {
    name: string
    intervalMs: number
    worthLogging: (report: Report) => boolean
    log?: (fields: Record<string, unknown>, message: string) => void
  },
): PeriodicTask<Report> {
  const log = options.log ?? (() => undefined)
  let running: Promise<Report> | undefined
  const runOnce = () => {
    running ??= task().finally(() => {
      running = undefined
    })
    return running
  }
  const timer =
    options.intervalMs > 0
      ? setInterval(() => {
          runOnce().then(
            (report) => {
              if (options.worthLogging(report)) log({ report }, `${options.name} run`)
            },
            (error: unknown) => log({ err: String(error) }, `${options.name} run failed`),
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
