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

async function withRetries<T>(action: () => Promise<T>, attempts = 4): Promise<T> {
  let lastError: unknown
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await action()
    } catch (error) {
      lastError = error
      const status = (error as { status?: number }).status
      // Refusals (4xx other than conflicts) will not change by retrying.
      if (status !== undefined && status >= 400 && status < 500 && status !== 412) {
        throw error
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt))
    }
  }
  throw lastError
}
