/**
 * Dynamic batching as Triton's `dynamic_batching` does it: requests for one model version queue
 * up; whenever a run slot is free, the oldest request and those queued behind it (same key, in
 * arrival order) are merged up to `maxBatchSize` rows and executed as one run, whose results
 * are handed back to each caller. A batch that is not full waits at most `maxQueueDelayMs` for
 * more requests (0: never waits — requests still merge while every slot is busy, so an idle
 * server adds no latency and a loaded one batches by itself). Domain-free: items, rows and the
 * run are the caller's.
 */

export interface BatchReport {
  /** Rows in the run. */
  rows: number
  /** Requests merged into it. */
  requests: number
  /** How long each request queued before the run started, in ms. */
  queueDelaysMs: number[]
}

export interface BatcherTimer {
  set(callback: () => void, ms: number): unknown
  clear(handle: unknown): void
}

export interface DynamicBatcherOptions<Item, Result> {
  /** Most rows merged into one run; 0 turns batching off (every request runs alone, at once). */
  maxBatchSize: number
  /** How long the oldest queued request may wait for a fuller batch, in ms. */
  maxQueueDelayMs: number
  /** Runs in flight at once, like Triton's instance count (at least 1). */
  maxConcurrentRuns: number
  rows(item: Item): number
  /** Only items with the same key merge (e.g. tensors whose dimensions past the first agree). */
  key?(item: Item): string
  /** Executes merged items; resolves with one result per item, in order. */
  run(items: Item[]): Promise<Result[]>
  /** Milliseconds on a monotonic clock. */
  now?: () => number
  timer?: BatcherTimer
  onBatch?(report: BatchReport): void
  /** The error a submit after `close()` rejects with. */
  closedError?: () => Error
  /**
   * Whether a merged run that failed with `error` is run again request by request, so the one
   * that broke it fails alone (default: always). An outage fails them all at once instead.
   */
  retryAlone?(error: unknown): boolean
  /** Called whenever the last run ends with nothing queued (the batcher could be let go). */
  onIdle?(): void
}

interface Pending<Item, Result> {
  item: Item
  rows: number
  key: string
  enqueuedAt: number
  resolve(result: Result): void
  reject(error: unknown): void
}

const realTimer: BatcherTimer = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

export class DynamicBatcher<Item, Result> {
  private readonly queue: Pending<Item, Result>[] = []
  private running = 0
  private timerHandle: unknown
  private timerDue = Infinity
  private closing = false
  private drained: Array<() => void> = []
  private readonly now: () => number
  private readonly timer: BatcherTimer

  constructor(private readonly options: DynamicBatcherOptions<Item, Result>) {
    if (!(options.maxConcurrentRuns >= 1)) throw new RangeError('maxConcurrentRuns must be ≥ 1')
    this.now = options.now ?? (() => performance.now())
    this.timer = options.timer ?? realTimer
  }

  get batching(): boolean {
    return this.options.maxBatchSize > 0
  }

  /** Requests waiting for a run slot. */
  get queued(): number {
    return this.queue.length
  }

  submit(item: Item): Promise<Result> {
    if (this.closing) {
      return Promise.reject(this.options.closedError?.() ?? new Error('the batcher is closed'))
    }
    return new Promise<Result>((resolve, reject) => {
      const rows = this.options.rows(item)
      const pending: Pending<Item, Result> = {
        item,
        rows,
        key: '',
        enqueuedAt: this.now(),
        resolve,
        reject,
      }
      // Batching off, or more rows than a batch holds: it runs alone, straight away. So does a
      // request that finds nothing queued and a run slot free when no batch waits for company
      // (what dispatch would do, without its queue and key work: an idle batcher's only path).
      if (
        !this.batching ||
        rows >= this.options.maxBatchSize ||
        (this.queue.length === 0 &&
          this.running < this.options.maxConcurrentRuns &&
          this.options.maxQueueDelayMs <= 0)
      ) {
        this.execute([pending])
        return
      }
      pending.key = this.options.key?.(item) ?? ''
      this.queue.push(pending)
      this.dispatch()
    })
  }

  /** Stops taking requests, runs what is queued without waiting, resolves when all are done. */
  close(): Promise<void> {
    this.closing = true
    this.dispatch()
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve()
    return new Promise((resolve) => this.drained.push(resolve))
  }

  private dispatch(): void {
    while (this.running < this.options.maxConcurrentRuns && this.queue.length > 0) {
      const head = this.queue[0]!
      const { picked, rows, blocked } = this.pick(head.key)
      const full = rows >= this.options.maxBatchSize || blocked
      const due = head.enqueuedAt + this.options.maxQueueDelayMs
      if (!full && !this.closing && this.now() < due) {
        this.armTimer(due)
        return
      }
      this.dequeue(picked)
      this.execute(picked)
    }
    if (this.queue.length === 0) this.disarmTimer()
  }

  private dequeue(picked: Pending<Item, Result>[]): void {
    // Usually the batch is the head of the queue (one key); otherwise remove it item by item.
    if (picked.every((pending, i) => this.queue[i] === pending)) {
      this.queue.splice(0, picked.length)
      return
    }
    const chosen = new Set(picked)
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (chosen.has(this.queue[i]!)) this.queue.splice(i, 1)
    }
  }

  /** The head's batch: same-key requests in arrival order while their rows fit. */
  private pick(key: string) {
    const picked: Pending<Item, Result>[] = []
    let rows = 0
    let blocked = false
    for (const pending of this.queue) {
      if (pending.key !== key) continue
      if (rows + pending.rows > this.options.maxBatchSize) {
        blocked = true
        break
      }
      picked.push(pending)
      rows += pending.rows
    }
    return { picked, rows, blocked }
  }

  private armTimer(due: number): void {
    if (this.timerHandle !== undefined && this.timerDue <= due) return
    this.disarmTimer()
    this.timerDue = due
    this.timerHandle = this.timer.set(
      () => {
        this.timerHandle = undefined
        this.timerDue = Infinity
        this.dispatch()
      },
      Math.max(0, due - this.now()),
    )
  }

  private disarmTimer(): void {
    if (this.timerHandle === undefined) return
    this.timer.clear(this.timerHandle)
    this.timerHandle = undefined
    this.timerDue = Infinity
  }

  private execute(batch: Pending<Item, Result>[]): void {
    this.running++
    const started = this.now()
    let rows = 0
    for (const pending of batch) rows += pending.rows
    this.options.onBatch?.({
      rows,
      requests: batch.length,
      queueDelaysMs: batch.map((pending) => started - pending.enqueuedAt),
    })
    this.runSettling(batch)
      .catch(() => undefined)
      .finally(() => {
        this.running--
        this.dispatch()
        if (this.queue.length === 0 && this.running === 0) {
          for (const resolve of this.drained.splice(0)) resolve()
          this.options.onIdle?.()
        }
      })
  }

  /**
   * Runs a batch and settles every caller. When a merged run fails, each request is run again
   * on its own, so the one that broke the run fails alone and the others still get answers.
   */
  private async runSettling(batch: Pending<Item, Result>[]): Promise<void> {
    try {
      const results = await this.options.run(batch.map((pending) => pending.item))
      if (results.length !== batch.length) {
        throw new Error(`the run returned ${results.length} results for ${batch.length} requests`)
      }
      batch.forEach((pending, i) => pending.resolve(results[i]!))
    } catch (error) {
      if (batch.length === 1 || this.options.retryAlone?.(error) === false) {
        for (const pending of batch) pending.reject(error)
        return
      }
      for (const pending of batch) {
        try {
          const [result] = await this.options.run([pending.item])
          pending.resolve(result!)
        } catch (alone) {
          pending.reject(alone)
        }
      }
    }
  }
}
