import { NotFoundError } from '@argmax/errors'
import type { Transaction } from 'kysely'
import type { NatsConnection } from 'nats'
import { ensureCheckpoint } from './checkpoints.repository.ts'
import type { ProjectionsTables } from './checkpoints.table.ts'
import { startProjection, type StartProjectionOptions } from './runner.ts'

export interface RebuildProjectionOptions<DB> extends StartProjectionOptions<DB> {
  /** Empties every table the projection writes; runs in the checkpoint reset's transaction. */
  truncate(trx: Transaction<DB>): Promise<void>
  /** Gives up after this long (the tables stay consistent with their checkpoint). No limit by
   * default: a rebuild takes as long as the stream is long. */
  timeoutMs?: number
  /** Monotonic milliseconds, for the report's duration. */
  monotonic?: () => number
}

export interface RebuildReport {
  projection: string
  stream: string
  /** The checkpoint reached: the stream's last sequence when the rebuild started (or later). */
  position: number
  /** Messages read and events applied by the replay. */
  processed: number
  applied: number
  durationMs: number
}

/**
 * Drops a projection's state and replays its stream from sequence 1. Clearing the tables and
 * resetting the checkpoints happen in one transaction, so readers see either the old tables or
 * the rebuilt ones growing from empty, never a mix; a live runner of the same projection notices
 * its checkpoint moved back and replays alongside without double-applying anything.
 * Resolves once the replay has reached the end of the stream as it was when the rebuild began.
 */
export async function rebuildProjection<DB>(
  options: RebuildProjectionOptions<DB>,
): Promise<RebuildReport> {
  const { nc, db, stream, projection } = options
  const log = options.log
  const now = options.now ?? (() => new Date())
  const monotonic = options.monotonic ?? (() => performance.now())
  const started = monotonic()
  const target = await lastSequence(nc, stream)

  await ensureCheckpoint(db, { name: projection.name, stream }, now())
  await db.transaction().execute(async (trx) => {
    // Checkpoints first, tables second: the same lock order as a runner's batch, so a live
    // runner's batch either commits before the reset or waits for it, and they never deadlock.
    await (trx as unknown as Transaction<ProjectionsTables>)
      .updateTable('projection_checkpoints')
      .set({ position: 0, updated_at: now() })
      .where('name', '=', projection.name)
      .execute()
    await options.truncate(trx)
  })
  log.info({ projection: projection.name, stream, target }, 'projection cleared: replaying')

  const running = await startProjection(options)
  try {
    await running.waitForCatchUp(target, options.timeoutMs ?? Number.POSITIVE_INFINITY)
  } finally {
    await running.stop()
  }
  const { position, processed, applied } = running.status()
  const durationMs = monotonic() - started
  log.info(
    { projection: projection.name, stream, position, processed, applied, durationMs },
    'projection rebuilt',
  )
  return { projection: projection.name, stream, position, processed, applied, durationMs }
}

/** The stream's last sequence, or 0 when it holds no message (nothing to replay). */
async function lastSequence(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await nc.jetstreamManager()
  try {
    const { state } = await jsm.streams.info(stream)
    return state.messages === 0 ? 0 : state.last_seq
  } catch (error) {
    if ((error as { api_error?: { err_code?: number } }).api_error?.err_code === 10059) {
      throw new NotFoundError('stream', stream)
    }
    throw error
  }
}
