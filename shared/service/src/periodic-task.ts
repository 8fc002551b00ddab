/** A background job run on a timer, and on demand (tests, operators). */
export interface PeriodicTask<Report> {
  /** One run now (also what the timer calls); concurrent calls share the run in progress. */
  runOnce(): Promise<Report>
  stop(): Promise<void>
}

type LogLine = (fields: Record<string, unknown>, message: string) => void

/**
 * Runs `task` every `intervalMs` (0 = never on its own; `runOnce` still works), and once
 * `firstRunAfterMs` after the start when given (a daily job then also runs soon after every
 * restart, not only a day later). Runs never overlap, and a failed run is reported through
 * `warn` (default `log`) and retried at the next tick. A report is logged only when
 * `worthLogging` says it did something, so an idle schedule stays quiet.
 */
export function schedulePeriodic<Report extends object>(
  task: () => Promise<Report>,
  options: {
    name: string
    intervalMs: number
    worthLogging: (report: Report) => boolean
    log?: LogLine
    warn?: LogLine
    firstRunAfterMs?: number
  },
): PeriodicTask<Report> {
  const log = options.log ?? (() => undefined)
  const warn = options.warn ?? log
  let running: Promise<Report> | undefined
  const runOnce = () => {
    running ??= task().finally(() => {
      running = undefined
    })
    return running
  }
  const tick = () => {
    runOnce().then(
      (report) => {
        if (options.worthLogging(report)) log({ report }, `${options.name} run`)
      },
      (error: unknown) => warn({ err: String(error) }, `${options.name} run failed`),
    )
  }
  const timer = options.intervalMs > 0 ? setInterval(tick, options.intervalMs) : undefined
  const first =
    options.firstRunAfterMs !== undefined ? setTimeout(tick, options.firstRunAfterMs) : undefined
  timer?.unref()
  first?.unref()
  return {
    runOnce,
    async stop() {
      clearInterval(timer)
      clearTimeout(first)
      await running?.catch(() => undefined)
    },
  }
}
