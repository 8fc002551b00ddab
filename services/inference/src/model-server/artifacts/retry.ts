export interface RetryPolicy {
  /** Tries in all, the first included (at least 1). */
  attempts: number
  /** Wait before the second try; doubles after each failure up to `maxDelayMs`. */
  initialDelayMs: number
  maxDelayMs: number
}

export interface RetryOptions extends RetryPolicy {
  /** Whether a failure is worth another try (a missing object is not; a dropped connection is). */
  retryable(error: unknown): boolean
  sleep(ms: number): Promise<void>
  onRetry?(error: unknown, attempt: number, delayMs: number): void
}

/** Calls `task` until it succeeds, a failure is not retryable, or the tries run out. */
export async function withRetries<T>(task: () => Promise<T>, options: RetryOptions): Promise<T> {
  let delay = options.initialDelayMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await task()
    } catch (error) {
      if (attempt >= options.attempts || !options.retryable(error)) throw error
      options.onRetry?.(error, attempt, delay)
      await options.sleep(delay)
      delay = Math.min(options.maxDelayMs, delay * 2)
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
