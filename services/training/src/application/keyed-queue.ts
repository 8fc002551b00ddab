/**
 * Runs tasks one at a time per key, in arrival order, tasks of different keys side by side.
 * Training submits each user's runs through it: the quota aggregate's expected-sequence check
 * is the safety net across replicas, and inside one process no two submissions of a user race
 * for it — so fifty at once get an exact answer each, never a conflict.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>()

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    const result = previous.then(task, task)
    const tail = result.catch(() => undefined)
    this.tails.set(key, tail)
    void tail.then(() => {
      // Forget the key once nothing waits behind this task.
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return result
  }

  /** Keys with work queued or running (tests). */
  get size(): number {
    return this.tails.size
  }
}
