import type { Priority } from './run.types.ts'

/**
 * The queue's order, as one pure function of the waiting runs and the time:
 *
 * - a run's **effective level** is its priority's (low 0, normal 1, high 2) plus one level for
 *   every `agingMs` it has waited, capped at high;
 * - runs are taken by effective level, highest first, then first come first served (the time
 *   it started waiting: its submission, or the moment its retry became due), then by id.
 *
 * So high goes before normal before low, FIFO within a level, and a low run is never starved:
 * after one aging period it competes with normal runs as one of them (and, having waited
 * longer, passes the newer ones); after two, with high runs.
 */
export interface WaitingRun {
  runId: string
  /** The priority it waits at: its own, or `low` for a retry. */
  priority: Priority
  /** Since when it waits: submission, or when its retry became due. */
  waitingSince: Date
  /** Not eligible before this (a retry's backoff). */
  notBefore: Date
}

export const PRIORITY_LEVEL: Record<Priority, number> = { low: 0, normal: 1, high: 2 }
const TOP_LEVEL = PRIORITY_LEVEL.high

export function effectiveLevel(run: WaitingRun, now: Date, agingMs: number): number {
  const waited = Math.max(0, now.getTime() - run.waitingSince.getTime())
  const aged = agingMs > 0 ? Math.floor(waited / agingMs) : 0
  return Math.min(TOP_LEVEL, PRIORITY_LEVEL[run.priority] + aged)
}

/** The eligible runs (backoff over), in the order they should start. */
export function queueOrder<R extends WaitingRun>(
  runs: readonly R[],
  now: Date,
  agingMs: number,
): R[] {
  return runs
    .filter((run) => run.notBefore.getTime() <= now.getTime())
    .map((run) => ({ run, level: effectiveLevel(run, now, agingMs) }))
    .sort(
      (a, b) =>
        b.level - a.level ||
        a.run.waitingSince.getTime() - b.run.waitingSince.getTime() ||
        (a.run.runId < b.run.runId ? -1 : a.run.runId > b.run.runId ? 1 : 0),
    )
    .map(({ run }) => run)
}
