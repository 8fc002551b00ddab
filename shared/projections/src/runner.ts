import { ValidationError } from '@argmax/errors'
import { decodeRecorded, type RecordedEvent } from '@argmax/events'
import type { Kysely } from 'kysely'
import type { NatsConnection } from 'nats'
import { planBatch, type StoredMessage } from './batch-plan.ts'
import {
  ensureCheckpoint,
  lockCheckpoint,
  saveCheckpoint,
  type CheckpointKey,
} from './checkpoints.repository.ts'
import { ProjectionFailedError, ProjectionStoppedError, ProjectionTimeoutError } from './errors.ts'
import { jsonLineLogger, type ProjectionLogger } from './logger.ts'
import { applyEvents, selectorFor, type Projection } from './projection.ts'
import { StreamReader, type ReadMessage } from './stream-reader.ts'

export interface StartProjectionOptions<DB> {
  nc: NatsConnection
  db: Kysely<DB>
  stream: string
  projection: Projection<DB>
  /** Most events applied in one transaction (default 1000). Smaller batches form by themselves
   * when fewer events are waiting, so a quiet stream is applied event by event. */
  batchSize?: number
  /** Brings old event versions to the current schema before the handlers see them. */
  upcast?: (event: RecordedEvent) => RecordedEvent
  log?: ProjectionLogger
  now?: () => Date
  /** How long one pull waits on an idle stream before the next one (default 5 s). */
  idlePullMs?: number
  /**
   * Wait for the WAL flush when a batch commits (default false). Not needed: tables and their
   * checkpoint commit together, so a commit lost in a PostgreSQL crash loses its checkpoint too
   * and those events are applied again from the stream. Skipping the flush wait roughly doubles
   * rebuild speed on ordinary disks.
   */
  durableCommits?: boolean
}

export interface ProjectionStatus {
  name: string
  stream: string
  state: 'running' | 'stopped'
  /** The committed checkpoint: every event up to this stream sequence is in the tables. */
  position: number
  /** True when the last batch reached the end of the stream as it was then. */
  caughtUp: boolean
  /** Messages examined and events handed to the handlers since this run started. */
  processed: number
  applied: number
  /** Set when the projection stopped by itself; restart it (after a fix) to resume. */
  error?: ProjectionFailedError
}

export interface RunningProjection {
  readonly name: string
  readonly stream: string
  /** Stops reading, lets the batch in flight commit (or roll back) and deletes the consumer. */
  stop(): Promise<void>
  position(): number
  status(): ProjectionStatus
  /** Resolves with the position once it is ≥ sequence; rejects on timeout or if it stops. */
  waitFor(sequence: number, timeoutMs: number): Promise<number>
  /** Resolves once it has applied `sequence` or everything the stream held (whichever first). */
  waitForCatchUp(sequence: number, timeoutMs: number): Promise<number>
  /** Settles when it stops for any reason, with the failure if it stopped by itself. */
  readonly stopped: Promise<ProjectionFailedError | undefined>
}

const DEFAULT_BATCH = 1_000
const MAX_BATCH = 10_000

/** Raised inside a batch transaction when the stored checkpoint is behind what this run
 * committed: someone rebuilt or reset the projection, so this run must replay from there. */
class CheckpointMovedBack extends Error {
  constructor(readonly position: number) {
    super(`checkpoint moved back to ${position}`)
  }
}

type Prepared = { event: RecordedEvent } | { error: unknown }

interface Waiter {
  reached(): boolean
  resolve(position: number): void
  /** The projection stopped before reaching it. */
  abandon(): void
}

/**
 * Runs a projection: reads the stream from checkpoint + 1 and applies the events in batches,
 * each batch and its checkpoint in one Postgres transaction, so a crash or a redelivery can
 * neither lose nor double-apply an event. A failing event stops the projection with everything
 * before it committed; a restart resumes at that event.
 */
export async function startProjection<DB>(
  options: StartProjectionOptions<DB>,
): Promise<RunningProjection> {
  const { nc, stream, projection } = options
  const batchSize = options.batchSize ?? DEFAULT_BATCH
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
    throw ValidationError.field('batchSize', `must be an integer from 1 to ${MAX_BATCH}`)
  }
  const db = options.db
  const log = options.log ?? jsonLineLogger
  const now = options.now ?? (() => new Date())
  const upcast = options.upcast ?? ((event: RecordedEvent) => event)
  const durableCommits = options.durableCommits ?? false
  const selector = selectorFor(projection)
  const key: CheckpointKey = { name: projection.name, stream }
  const decodeNow = (message: StoredMessage) =>
    upcast(decodeRecorded(message.data, message.sequence))
  // Decoded on arrival (see StreamReader's `prepare`); a failure is kept and thrown when the
  // batch reaches that message, so it stops the projection at the right place.
  const prepare = (message: StoredMessage): Prepared | undefined => {
    if (!selector.wantsSubject(message.subject)) return undefined
    try {
      return { event: decodeNow(message) }
    } catch (error) {
      return { error }
    }
  }
  const decode = (message: StoredMessage): RecordedEvent => {
    const prepared = (message as ReadMessage).prepared as Prepared | undefined
    if (prepared === undefined) return decodeNow(message)
    if ('error' in prepared) throw prepared.error
    return prepared.event
  }

  let committed = await ensureCheckpoint(db, key, now())
  const openReader = (from: number) =>
    StreamReader.open({
      js: nc.jetstream(),
      stream,
      startSequence: from + 1,
      fetchSize: batchSize,
      maxBuffered: batchSize * 2,
      idlePullMs: options.idlePullMs ?? 5_000,
      prepare,
    })
  let reader = await openReader(committed)
  let state: ProjectionStatus['state'] = 'running'
  let stopping = false
  let caughtUp = false
  let processed = 0
  let applied = 0
  let failure: ProjectionFailedError | undefined
  const waiters = new Set<Waiter>()
  const fields = { projection: projection.name, stream }
  log.info({ ...fields, from: committed + 1 }, 'projection started')

  /** One transaction: lock the checkpoint, apply what is new, move the checkpoint. */
  async function applyInTransaction(messages: readonly ReadMessage[]) {
    return db.transaction().execute(async (trx) => {
      // A missing row means someone deleted the checkpoint: the same as a reset to 0.
      const stored = (await lockCheckpoint(trx, key, { asyncCommit: !durableCommits })) ?? 0
      if (stored < committed) throw new CheckpointMovedBack(stored)
      const plan = planBatch(messages, stored, selector, decode)
      await applyEvents(projection, trx, plan.events)
      if (plan.through > stored) await saveCheckpoint(trx, key, plan.through, now())
      return { position: plan.through, applied: plan.events.length, plan }
    })
  }

  function commit(position: number, messages: readonly ReadMessage[], appliedNow: number): void {
    committed = position
    processed += messages.filter((message) => message.sequence <= position).length
    applied += appliedNow
    caughtUp = messages.at(-1)?.pending === 0 && reader.isDrained()
    for (const waiter of waiters) {
      if (waiter.reached()) waiter.resolve(committed)
    }
  }

  /** After a failed batch: apply its messages one per transaction to commit everything before
   * the culprit and name it. A transient failure that does not recur simply goes through. */
  async function isolate(messages: readonly ReadMessage[]): Promise<void> {
    for (const message of messages) {
      try {
        const result = await applyInTransaction([message])
        commit(result.position, [message], result.applied)
        if (result.plan.undecodable) throw undecodableFailure(result.plan.undecodable)
      } catch (error) {
        if (error instanceof CheckpointMovedBack || error instanceof ProjectionFailedError) {
          throw error
        }
        throw new ProjectionFailedError(
          projection.name,
          stream,
          message.sequence,
          typeOf(message, decode),
          error,
        )
      }
    }
  }

  function undecodableFailure(undecodable: { sequence: number; error: unknown }) {
    return new ProjectionFailedError(
      projection.name,
      stream,
      undecodable.sequence,
      undefined,
      undecodable.error,
    )
  }

  async function replayFrom(position: number): Promise<void> {
    log.info({ ...fields, from: position + 1 }, 'checkpoint moved back (rebuild?): replaying')
    await reader.stop()
    committed = position
    caughtUp = false
    reader = await openReader(position)
  }

  async function processBatch(messages: readonly ReadMessage[]): Promise<void> {
    try {
      let result
      try {
        result = await applyInTransaction(messages)
      } catch (error) {
        if (error instanceof CheckpointMovedBack) throw error
        log.error({ ...fields, err: error }, 'batch failed: retrying its events one by one')
        return await isolate(messages)
      }
      commit(result.position, messages, result.applied)
      if (result.plan.undecodable) throw undecodableFailure(result.plan.undecodable)
    } catch (error) {
      if (error instanceof CheckpointMovedBack) return replayFrom(error.position)
      throw error
    }
  }

  async function run(): Promise<ProjectionFailedError | undefined> {
    try {
      while (!stopping) {
        const messages = await reader.take(batchSize)
        if (messages.length === 0) break
        await processBatch(messages)
      }
    } catch (error) {
      failure =
        error instanceof ProjectionFailedError
          ? error
          : new ProjectionFailedError(projection.name, stream, undefined, undefined, error)
      log.error(
        { ...fields, position: committed, sequence: failure.sequence, err: failure },
        'projection stopped',
      )
    } finally {
      state = 'stopped'
      await reader.stop()
      for (const waiter of waiters) {
        if (waiter.reached()) waiter.resolve(committed)
        else waiter.abandon()
      }
      waiters.clear()
    }
    return failure
  }

  const stopped = run()

  function wait(reached: () => boolean, sequence: number, timeoutMs: number): Promise<number> {
    if (reached()) return Promise.resolve(committed)
    if (state === 'stopped') {
      return Promise.reject(
        new ProjectionStoppedError(projection.name, sequence, committed, failure),
      )
    }
    return new Promise<number>((resolve, reject) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            waiters.delete(waiter)
            reject(new ProjectionTimeoutError(projection.name, sequence, committed, timeoutMs))
          }, timeoutMs)
        : undefined
      const settle = () => {
        clearTimeout(timer)
        waiters.delete(waiter)
      }
      const waiter: Waiter = {
        reached,
        resolve: (position) => {
          settle()
          resolve(position)
        },
        abandon: () => {
          settle()
          reject(new ProjectionStoppedError(projection.name, sequence, committed, failure))
        },
      }
      waiters.add(waiter)
    })
  }

  return {
    name: projection.name,
    stream,
    stopped,
    async stop() {
      stopping = true
      await reader.stop()
      await stopped
    },
    position: () => committed,
    status: () => ({
      name: projection.name,
      stream,
      state,
      position: committed,
      caughtUp,
      processed,
      applied,
      ...(failure ? { error: failure } : {}),
    }),
    waitFor: (sequence, timeoutMs) => wait(() => committed >= sequence, sequence, timeoutMs),
    waitForCatchUp: (sequence, timeoutMs) =>
      wait(() => committed >= sequence || caughtUp, sequence, timeoutMs),
  }
}

function typeOf(
  message: StoredMessage,
  decode: (message: StoredMessage) => RecordedEvent,
): string | undefined {
  try {
    return decode(message).type
  } catch {
    return undefined
  }
}
