import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import { CSV_NO_ROWS } from '../csv/csv-table-reader.ts'
import { JSONL_NO_ROWS } from '../jsonl/jsonl-reader.ts'
import { MAX_COLUMNS, TableProfiler } from '../profile/table-profiler.ts'
import type { ValidationFormat, ValidationIssue } from '../validation.types.ts'
import type { Batch } from './batch-cutter.ts'
import { profileBatch, type BatchResult, type BatchTask } from './profile-batch.ts'

const OLD_GENERATION_MB = 64

/**
 * Shared memory for the batches in flight, reused from batch to batch. A batch moved to a
 * worker as its own ArrayBuffer would be freed only when that worker's garbage collector
 * next runs — rarely, as its heap stays small — so hundreds of MiB of finished batches could
 * wait there; a few reused shared buffers keep the validator's memory flat instead.
 */
class SharedSlots {
  private readonly free: SharedArrayBuffer[] = []

  constructor(private readonly keep: number) {}

  acquire(size: number): SharedArrayBuffer {
    const fitting = this.free.findIndex((slot) => slot.byteLength >= size)
    if (fitting !== -1) return this.free.splice(fitting, 1)[0]!
    // Some headroom: batches vary a little in size around the target.
    return new SharedArrayBuffer(Math.ceil(size * 1.25))
  }

  release(slot: SharedArrayBuffer): void {
    this.free.push(slot)
    // Past `keep`, the smallest are let go (a batch stretched by a long record, say).
    if (this.free.length > this.keep) {
      this.free.sort((a, b) => b.byteLength - a.byteLength).length = this.keep
    }
  }
}

/** Worker threads for a file of more than one batch: one per core by default. */
export function defaultWorkers(): number {
  return availableParallelism()
}

/**
 * Profiles a file batch by batch and joins the results in file order, so the outcome depends
 * only on the bytes and the batch size — not on the number of workers or their timing.
 *
 * A file of one batch (most files) is profiled on the calling thread: no worker is started.
 * From the second batch on, batches go to a pool of worker threads, at most two per worker in
 * flight (memory stays bounded whatever the file size). Issues are joined in file order up to
 * `maxErrors`; after a batch whose reader stopped early (a fatal error, or enough issues) the
 * later batches are not dispatched and their results are dropped, as one pass would have
 * stopped reading there.
 */
export class BatchProfiling {
  private readonly profile = new TableProfiler()
  private readonly issues: ValidationIssue[] = []
  private readonly inFlight: Promise<BatchResult>[] = []
  private first: Batch | null = null
  private pool: Piscina<BatchTask, BatchResult> | null = null
  private readonly slots: SharedSlots
  private batches = 0
  private done = false
  private poolError: Error | undefined

  constructor(
    private readonly format: ValidationFormat,
    private readonly maxErrors: number,
    private readonly workers: number,
    /** Told after each batch is joined: profiling advanced. */
    private readonly onJoined: () => void = () => undefined,
  ) {
    this.slots = new SharedSlots(2 * workers)
  }

  /** True once later bytes can no longer change the outcome. */
  get stopped(): boolean {
    return this.done
  }

  /** Takes the next batch; waits while too many are in flight. */
  async add(batch: Batch): Promise<void> {
    this.throwIfPoolFailed()
    if (this.done) return
    this.batches++
    if (batch.index === 0) {
      // Held until it is known whether the file has a second batch.
      this.first = batch
      return
    }
    if (this.first !== null) {
      this.dispatch(this.first)
      this.first = null
    }
    this.dispatch(batch)
    while (this.inFlight.length >= Math.max(1, 2 * this.workers) && !this.done) {
      this.join(await this.inFlight.shift()!)
    }
  }

  /** Joins what is left; `size` is the file's length. */
  async finish(size: number): Promise<{ profile: TableProfiler; issues: ValidationIssue[] }> {
    if (this.first !== null) {
      this.join(profileBatch(this.task(this.first, { wholeFile: true, size })))
      this.first = null
    }
    while (this.inFlight.length > 0) this.join(await this.inFlight.shift()!)
    this.throwIfPoolFailed()
    const joinedFromBatches = this.batches > 1
    if (joinedFromBatches && this.issues.length === 0 && this.profile.rowCount === 0) {
      this.issues.push(this.format === 'csv' ? CSV_NO_ROWS : JSONL_NO_ROWS)
    }
    return { profile: this.profile, issues: this.issues }
  }

  /**
   * Settles every batch still in flight, then stops the worker threads. The results are not
   * needed (an abort, or a stop) but are waited for — at most two batches per worker — because
   * a pool destroyed while a worker still owes a result races with that result. An abort is
   * often noticed in the microtasks of the callback that delivers one result; Node then goes
   * on to deliver the next result already queued on that worker's port, for a task piscina
   * has dropped, and piscina emits "Unexpected message from Worker" as an `error` event from
   * inside that callback, where nothing can catch it.
   */
  async close(): Promise<void> {
    this.done = true
    const pool = this.pool
    this.pool = null
    await Promise.allSettled(this.inFlight.splice(0))
    await pool?.destroy()
  }

  private throwIfPoolFailed(): void {
    if (this.poolError) throw this.poolError
  }

  private dispatch(batch: Batch): void {
    if (this.workers === 0) {
      this.inFlight.push(Promise.resolve(profileBatch(this.task(batch))))
      return
    }
    this.pool ??= this.startPool()
    const slot = this.slots.acquire(batch.bytes.length)
    const bytes = new Uint8Array(slot, 0, batch.bytes.length)
    bytes.set(batch.bytes)
    const result = this.pool.run({ ...this.task(batch), bytes })
    this.inFlight.push(result.finally(() => this.slots.release(slot)))
  }

  private startPool(): Piscina<BatchTask, BatchResult> {
    const pool = new Piscina<BatchTask, BatchResult>({
      filename: new URL('./batch-worker.cjs', import.meta.url).href,
      minThreads: this.workers,
      maxThreads: this.workers,
      // Let the worker's event loop turn between batches: a batch leaves work queued for it
      // (the csv-parse stream's destruction, on process.nextTick), which would otherwise
      // pile up while Atomics keep handing the worker batch after batch.
      atomics: 'async',
      // A batch's live data is a few MiB, but V8 lets a worker's heap fill with garbage far
      // beyond that before collecting it; a cap makes it collect early and keeps the
      // validator's memory flat.
      resourceLimits: { maxOldGenerationSizeMb: OLD_GENERATION_MB, maxYoungGenerationSizeMb: 8 },
    })
    // Without a listener, an `error` of the pool (a worker dying between tasks) would be thrown
    // from an event handler and end the process; it fails this file's validation instead.
    pool.on('error', (error: Error) => (this.poolError ??= error))
    return pool
  }

  private task(batch: Batch, whole = { wholeFile: false, size: 0 }): BatchTask {
    return {
      format: this.format,
      bytes: batch.bytes,
      firstLine: batch.firstLine,
      offset: batch.offset,
      header: batch.header,
      maxErrors: this.maxErrors,
      ...whole,
    }
  }

  private join(result: BatchResult): void {
    if (this.done) return
    this.onJoined()
    const room = this.maxErrors - this.issues.length
    this.issues.push(...result.issues.slice(0, room))
    const refused = this.profile.merge(TableProfiler.revive(result.profile))
    if (refused !== undefined && this.issues.length < this.maxErrors) {
      this.issues.push({
        code: 'too_many_columns',
        column: refused.slice(0, 200),
        message: `the file's rows bring the number of distinct keys over ${MAX_COLUMNS}`,
      })
    }
    if (result.stopped || this.issues.length >= this.maxErrors) this.done = true
  }
}
