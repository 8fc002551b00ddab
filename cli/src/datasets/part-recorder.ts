import pRetry from 'p-retry'

/**
 * Tells the service which parts are stored, off the upload's critical path: parts finished
 * while one report is in flight are batched into the next, so there is at most one report in
 * flight and the uploaders never wait for it. `drain()` waits until everything is reported
 * (required before completing: the service only completes with recorded parts).
 */
export function createPartRecorder(
  report: (parts: Array<{ partNumber: number; etag: string }>) => Promise<unknown>,
) {
  let pending: Array<{ partNumber: number; etag: string }> = []
  let inFlight: Promise<void> | undefined
  let failure: unknown

  function flush(): Promise<void> {
    if (inFlight) return inFlight
    if (pending.length === 0) return Promise.resolve()
    const batch = pending
    pending = []
    inFlight = (async () => {
      try {
        await withRetries(() => report(batch))
      } catch (error) {
        failure ??= error
        pending = [...batch, ...pending]
      } finally {
        inFlight = undefined
      }
    })()
    return inFlight
  }

  return {
    add(part: { partNumber: number; etag: string }): void {
      if (failure) throw failure
      pending.push(part)
      void flush()
    },
    async drain(): Promise<void> {
      // Bounded: every round reports everything pending when it started.
      for (let round = 0; round < 1_000 && (inFlight || pending.length > 0); round++) {
        await (inFlight ?? flush())
        if (failure) throw failure
      }
    },
  }
}

/** The problem type of a conflict between concurrent writers inside the service (HTTP 409). */
const CONCURRENCY_PROBLEM = 'https://argmax.dev/problems/concurrency'

/** Up to 4 attempts, 200 ms apart and doubling, for what a retry can fix. */
function withRetries<T>(action: () => Promise<T>): Promise<T> {
  return pRetry(action, { retries: 3, minTimeout: 200, factor: 2, shouldRetry: isTransient })
}

function isTransient({ error }: { error: Error }): boolean {
  const { status, problem } = error as { status?: number; problem?: { type?: string } }
  if (status === undefined || status >= 500) return true
  // Refusals will not change by retrying; concurrent writers on the same upload will settle.
  return problem?.type === CONCURRENCY_PROBLEM
}
