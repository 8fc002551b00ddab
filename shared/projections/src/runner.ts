import { NotFoundError, ValidationError } from '@argmax/errors'
import { decodeRecorded, type RecordedEvent } from '@argmax/events'
import { metrics, type Meter } from '@opentelemetry/api'
import type { Kysely } from 'kysely'
import type { NatsConnection } from 'nats'
import pRetry from 'p-retry'
import { planBatch, type StoredMessage } from './batch-plan.ts'
import {
  ensureCheckpoint,
  lockCheckpoint,
  saveCheckpoint,
  type CheckpointKey,
} from './checkpoints.repository.ts'
import {
  ProjectionFailedError,
  ProjectionFailingError,
  ProjectionStoppedError,
  ProjectionTimeoutError,
} from './errors.ts'
import type { ProjectionLogger } from './logger.ts'
import { projectionInstruments } from './projection-metrics.ts'
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
  /** The service's pino logger (or any with the same info/warn/error). */
  log: ProjectionLogger
  /**
   * Where its gauges (position, failing) and failure counter are reported; default: the global
   * meter provider, which @argmax/telemetry's startTelemetry serves on /metrics.
   */
  meter?: Meter
  /**
   * After a failure (a handler throwing, an event that cannot be decoded, PostgreSQL or NATS
   * unreachable) the projection retries from its checkpoint, waiting `minDelayMs` (default
   * 500), doubling up to `maxDelayMs` (default 30 s), until it gets past the failure.
   */
  retry?: { minDelayMs?: number; maxDelayMs?: number }
  now?: () => Date
  /** How long one pull waits on an idle stream before the next one (default 5 s). */
  idlePullMs?: number
  /**
   * A stream that does not exist yet is waited for (the projection reports itself failing and
   * retries with backoff) instead of refused. For streams another service creates: services
   * start in any order.
   */
  waitForStream?: boolean
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
  /** `failing`: stuck on a failure, retrying by itself with backoff; `stopped`: stop() was called. */
  state: 'running' | 'failing' | 'stopped'
  /** The committed checkpoint: every event up to this stream sequence is in the tables. */
  position: number
  /** True when the last batch reached the end of the stream as it was then. */
  caughtUp: boolean
  /** Messages examined and events handed to the handlers since this run started. */
  processed: number
  applied: number
  /** While failing: what failed (the event's sequence and type, when an event failed). */
  failure?: ProjectionFailure
}

export interface ProjectionFailure {
  error: ProjectionFailedError
  /** Failed attempts in a row at this point (the first failure included). */
  attempts: number
  /** When the first of them happened. */
  since: Date
}

export interface RunningProjection {
  readonly name: string
  readonly stream: string
  /** Stops reading, lets the batch in flight commit (or roll back) and deletes the consumer. */
  stop(): Promise<void>
  position(): number
  status(): ProjectionStatus
  /**
   * Resolves with the position once it is ≥ sequence; rejects on timeout, if it stops, or at
   * once while it is failing (ProjectionFailingError: a 503 naming the failure).
   */
  waitFor(sequence: number, timeoutMs: number): Promise<number>
  /** Resolves once it has applied `sequence` or everything the stream held (whichever first). */
  waitForCatchUp(sequence: number, timeoutMs: number): Promise<number>
  /** Settles once stop() has finished, with the failure it was stuck on, if any. */
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
  /** The projection stopped, or started failing, before reaching it. */
  abandon(): void
}

/**
 * Runs a projection: reads the stream from checkpoint + 1 and applies the events in batches,
 * each batch and its checkpoint in one Postgres transaction, so a crash or a redelivery can
 * neither lose nor double-apply an event. A failing event is never skipped: everything before
 * it is committed, the projection reports itself failing (status, log, metrics) and retries
 * from its checkpoint with a capped backoff until the event goes through — after a database
 * outage, or once a fixed handler or upcaster is deployed.
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
  const log = options.log
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
  let reader: StreamReader | undefined
  try {
    reader = await openReader(committed)
  } catch (error) {
    if (!(options.waitForStream && error instanceof NotFoundError)) throw error
    // consume() opens it again, failing (and backing off) until the stream's owner creates it.
  }
  let state: ProjectionStatus['state'] = 'running'
  let stopping = false
  const stopSignal = new AbortController()
  let caughtUp = false
  let processed = 0
  let applied = 0
  let failure: ProjectionFailure | undefined
  const waiters = new Set<Waiter>()
  const fields = { projection: projection.name, stream }
  const instruments = projectionInstruments(
    options.meter ?? metrics.getMeter('@argmax/projections'),
  )
  const unobserve = instruments.observe(() => ({
    ...fields,
    position: committed,
    failing: failure !== undefined,
  }))
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
    caughtUp = messages.at(-1)?.pending === 0 && (reader?.isDrained() ?? false)
    // A commit after a failure is the failed event going through: everything before it was
    // committed already, and reading resumed from there.
    if (failure) recovered()
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
    await reader?.stop()
    reader = undefined
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
        log.warn({ ...fields, err: error }, 'batch failed: retrying its events one by one')
        return await isolate(messages)
      }
      commit(result.position, messages, result.applied)
      if (result.plan.undecodable) throw undecodableFailure(result.plan.undecodable)
    } catch (error) {
      if (error instanceof CheckpointMovedBack) return replayFrom(error.position)
      throw error
    }
  }

  /**
   * Reads and applies until stop(), a failure (thrown as a ProjectionFailedError), or the end
   * of a failure (it returns, so the next failure's retries back off from the minimum again).
   */
  async function consume(): Promise<void> {
    const wasFailing = failure !== undefined
    try {
      reader ??= await openReader(committed)
      // Reading works again: a failure to read is over (a failed event is over on its commit).
      if (failure && failure.error.sequence === undefined) recovered()
      while (!stopping && (!wasFailing || failure)) {
        const messages = await reader.take(batchSize)
        if (messages.length === 0) return
        await processBatch(messages)
      }
    } catch (error) {
      await reader?.stop().catch(() => undefined)
      reader = undefined
      throw error instanceof ProjectionFailedError
        ? error
        : new ProjectionFailedError(projection.name, stream, undefined, undefined, error)
    }
  }

  function failed(error: ProjectionFailedError): void {
    const attempts = (failure?.attempts ?? 0) + 1
    failure = { error, attempts, since: failure?.since ?? now() }
    state = 'failing'
    instruments.failures.add(1, fields)
    const sequence = error.sequence
    log.error(
      {
        ...fields,
        position: committed,
        sequence,
        eventType: error.eventType,
        attempts,
        err: error,
      },
      sequence === undefined
        ? 'projection failing: cannot read its stream; retrying'
        : `projection failing at sequence ${sequence}; retrying from its checkpoint`,
    )
    for (const waiter of waiters) waiter.abandon()
  }

  function recovered(): void {
    log.warn(
      { ...fields, position: committed, attempts: failure?.attempts, since: failure?.since },
      'projection resumed',
    )
    failure = undefined
    state = 'running'
  }

  async function run(): Promise<ProjectionFailedError | undefined> {
    const minDelayMs = options.retry?.minDelayMs ?? 500
    const maxDelayMs = Math.max(minDelayMs, options.retry?.maxDelayMs ?? 30_000)
    try {
      while (!stopping) {
        await pRetry(consume, {
          retries: Number.POSITIVE_INFINITY,
          minTimeout: minDelayMs,
          maxTimeout: maxDelayMs,
          factor: 2,
          randomize: true,
          signal: stopSignal.signal,
          // stop() aborts the signal, which p-retry also reports here: not a failure.
          onFailedAttempt: ({ error }) => {
            if (!stopping) failed(error as ProjectionFailedError)
          },
        }).catch((error: unknown) => {
          if (!stopping) throw error
        })
      }
    } finally {
      state = 'stopped'
      unobserve()
      await reader?.stop()
      for (const waiter of waiters) {
        if (waiter.reached()) waiter.resolve(committed)
        else waiter.abandon()
      }
      waiters.clear()
    }
    return failure?.error
  }

  const stopped = run()

  function refusal(sequence: number): Error {
    return failure
      ? new ProjectionFailingError(projection.name, sequence, committed, failure.error)
      : new ProjectionStoppedError(projection.name, sequence, committed)
  }

  function wait(reached: () => boolean, sequence: number, timeoutMs: number): Promise<number> {
    if (reached()) return Promise.resolve(committed)
    if (state !== 'running') return Promise.reject(refusal(sequence))
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
          reject(refusal(sequence))
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
      stopSignal.abort()
      await reader?.stop()
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
      ...(failure ? { failure } : {}),
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
