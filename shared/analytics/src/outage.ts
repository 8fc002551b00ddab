import { isClickhouseUnavailable } from './errors.ts'

/** How a sink's batch waits for an unavailable ClickHouse. */
export interface OutageWait {
  /** Until when (epoch ms) the batch keeps trying; after it, the failure is the batch's. */
  deadline: number
  /** Tells the consumer the batch is still being worked on, so its claim holds. */
  progress: () => void
  /** The consumer stopping: the batch stops waiting. */
  signal: AbortSignal
  log?: { warn(fields: Record<string, unknown>, message: string): void }
  /** Named in the log lines (e.g. the table, the rows). */
  fields?: Record<string, unknown>
}

/**
 * Runs `write`, and while ClickHouse answers "not now" (refused, timing out, overloaded) runs
 * it again after a pause of 0.5 s doubling to 5 s, until `deadline`. A sink waits rather than
 * failing its batch at once: failing would split the batch and spend its deliveries on an
 * outage that ends by itself. Any other failure (a row ClickHouse refuses) is thrown at once.
 * The wait is logged on its first try and every tenth after, so an outage shows in the logs
 * without a line per retry.
 */
export async function writeWhileUnavailable(
  wait: OutageWait,
  write: () => Promise<void>,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await write()
      return
    } catch (error) {
      if (!isClickhouseUnavailable(error) || Date.now() >= wait.deadline || wait.signal.aborted) {
        throw error
      }
      if (attempt % 10 === 0) {
        wait.log?.warn(
          { err: error, attempt, ...wait.fields },
          'ClickHouse unavailable; the batch waits for it',
        )
      }
    }
    wait.progress()
    await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 500 * 2 ** attempt)))
  }
}
