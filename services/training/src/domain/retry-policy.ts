/**
 * Retries wait longer each time: `baseMs · 2^(attempt − 1)`, capped at `maxMs`, so a trainer
 * crashing on a node with a transient problem is not restarted in a tight loop, and a run that
 * keeps failing reaches its dead letter within hours, not days.
 */
export interface RetryPolicy {
  /** Attempts a run gets before it is dead-lettered (default 3). */
  maxAttempts: number
  /** Wait after the first failed attempt. */
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 60_000,
  maxDelayMs: 3_600_000,
}

export function retryDelayMs(
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  failedAttempt: number,
): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempt - 1))
}
