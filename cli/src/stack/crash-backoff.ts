/**
 * When to start a part again after it died: Kubernetes' CrashLoopBackOff, with numbers for a
 * machine someone works at. The first restart comes quickly; each further crash in a row
 * doubles the wait up to a cap; a part that stayed up long enough counts as healthy again.
 */
export interface RestartPolicy {
  /** The wait before the first restart after a healthy run. */
  initialDelayMs: number
  factor: number
  maxDelayMs: number
  /** A run at least this long resets the series (Kubernetes: 10 min, twice its 5 min cap). */
  resetAfterMs: number
  /** From this many crashes in a row, the part is reported as crash looping. */
  crashLoopAfter: number
}

/** 1 s, 2 s, 4 s … 60 s; reset after 2 min up; a crash loop from the second crash in a row. */
export const defaultRestartPolicy: RestartPolicy = {
  initialDelayMs: 1_000,
  factor: 2,
  maxDelayMs: 60_000,
  resetAfterMs: 120_000,
  crashLoopAfter: 2,
}

/**
 * The crash series of one part. Pure: the caller says when each run started and ended (its
 * clock), and gets the delay before the next start.
 */
export class CrashBackoff {
  private consecutive = 0

  constructor(private readonly policy: RestartPolicy = defaultRestartPolicy) {}

  /** A run that started at `startedAt` ended (or failed to start) at `endedAt`, in ms. */
  crashed(startedAt: number, endedAt: number): number {
    if (endedAt - startedAt >= this.policy.resetAfterMs) this.consecutive = 0
    this.consecutive++
    const { initialDelayMs, factor, maxDelayMs } = this.policy
    return Math.min(maxDelayMs, initialDelayMs * factor ** (this.consecutive - 1))
  }

  /** Crashes in a row, without a run long enough to reset the series. */
  get crashes(): number {
    return this.consecutive
  }

  get crashLooping(): boolean {
    return this.consecutive >= this.policy.crashLoopAfter
  }
}
