/** A doorbell: use cases ring it (a run was submitted, cancelled, retried), the scheduler answers. */
export interface Wakeup {
  wake(): void
  /** The scheduler's handler; a later call replaces it. */
  onWake(handler: () => void): void
}

export function createWakeup(): Wakeup {
  let handler: (() => void) | undefined
  return {
    wake: () => handler?.(),
    onWake(next) {
      handler = next
    },
  }
}
