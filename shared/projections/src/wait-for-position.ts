import { ValidationError } from '@argmax/errors'
import type { Kysely } from 'kysely'
import { checkpointListenerFor, type CheckpointSubscriber } from './checkpoint-listener.ts'
import { listCheckpoints, type AnyDatabase } from './checkpoints.repository.ts'
import { ProjectionTimeoutError } from './errors.ts'

export interface WaitForPositionOptions {
  timeoutMs: number
  /** Required when the projection has checkpoints on more than one stream. */
  stream?: string
  /** How often to re-read the checkpoint when no notification arrives (default 25 ms, or 1 s as a
   * safety net when LISTEN/NOTIFY is active). */
  pollIntervalMs?: number
}

const POLL_MS = 25
const SAFETY_RECHECK_MS = 1_000

/**
 * Read-your-writes: resolves with the checkpoint once the projection has committed `sequence`
 * (e.g. the sequence a command's reply carried), rejects with ProjectionTimeoutError otherwise.
 * A database from createDatabase is woken by LISTEN/NOTIFY on checkpoint commits; any other
 * Kysely instance is polled.
 */
export async function waitForPosition<DB>(
  db: Kysely<DB>,
  projection: string,
  sequence: number,
  options: WaitForPositionOptions,
): Promise<number> {
  assertSequence(sequence)
  // A notice can arrive while the checkpoint is being read: `signalled` keeps it for the wait.
  let signalled = false
  let resolveWait: (() => void) | undefined
  const wake = () => {
    signalled = true
    resolveWait?.()
  }
  let timedOut = false
  const onNotice: CheckpointSubscriber = (notice) => {
    if (notice === 'lost') return wake()
    if (notice.name !== projection || notice.position < sequence) return
    if (options.stream === undefined || notice.stream === options.stream) wake()
  }
  const listener = checkpointListenerFor(db)
  // Subscribe before the first read, so a commit between the read and the wait is not missed.
  const unsubscribe = await listener?.subscribe(onNotice).catch(() => undefined)
  const recheckMs = unsubscribe ? SAFETY_RECHECK_MS : (options.pollIntervalMs ?? POLL_MS)
  const deadline = setTimeout(() => {
    timedOut = true
    wake()
  }, options.timeoutMs)
  try {
    for (;;) {
      signalled = false
      const position = await currentPosition(db, projection, options.stream)
      if (position >= sequence) return position
      if (timedOut) {
        throw new ProjectionTimeoutError(projection, sequence, position, options.timeoutMs)
      }
      if (signalled) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, recheckMs)
        resolveWait = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      resolveWait = undefined
    }
  } finally {
    clearTimeout(deadline)
    unsubscribe?.()
  }
}

async function currentPosition(
  db: AnyDatabase,
  projection: string,
  stream: string | undefined,
): Promise<number> {
  const rows = await listCheckpoints(db, projection)
  if (stream !== undefined) return rows.find((row) => row.stream === stream)?.position ?? 0
  if (rows.length > 1) {
    throw ValidationError.field(
      'stream',
      `projection ${projection} reads ${rows.map((row) => row.stream).join(', ')}: ` +
        'stream sequences are per stream, so name the stream to wait on',
    )
  }
  // Not started yet counts as position 0: the wait is for it to start and catch up.
  return rows[0]?.position ?? 0
}

function assertSequence(sequence: number): void {
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw ValidationError.field('sequence', `must be a non-negative integer, got ${sequence}`)
  }
}
