import { sql, type Kysely, type Transaction } from 'kysely'
import type { RecordedEvent } from '@argmax/events'
import type { BatchProjection } from '@argmax/projections'
import type { TrainingDatabase } from './tables.ts'

type Db = Kysely<TrainingDatabase> | Transaction<TrainingDatabase>

export const METRICS_PROJECTION = 'training-metrics'

/** A trainer's report, as stored on the heartbeat stream (a log record, not a domain event). */
export interface HeartbeatRecord {
  runId: string
  attempt: number
  iteration: number
  totalIterations: number
  metrics: Record<string, number | null>
  message?: string
  receivedAt: string
}

export const HEARTBEAT_TYPE = 'TrainingHeartbeat'

/**
 * The metrics history of every run: the newest heartbeat of each (run, attempt, iteration).
 * Batched — trainers report up to once a second each — folded in memory into one upsert.
 */
export async function applyHeartbeats(db: Db, events: readonly RecordedEvent[]): Promise<void> {
  const latest = new Map<string, HeartbeatRecord>()
  for (const event of events) {
    const beat = event.data as HeartbeatRecord
    latest.set(`${beat.runId}\u0000${beat.attempt}\u0000${beat.iteration}`, beat)
  }
  if (latest.size === 0) return
  await db
    .insertInto('run_metrics')
    .values(
      [...latest.values()].map((beat) => ({
        run_id: beat.runId,
        attempt: beat.attempt,
        iteration: beat.iteration,
        total_iterations: beat.totalIterations,
        metrics: JSON.stringify(beat.metrics),
        message: beat.message ?? null,
        received_at: beat.receivedAt,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['run_id', 'attempt', 'iteration']).doUpdateSet((eb) => ({
        total_iterations: eb.ref('excluded.total_iterations'),
        metrics: eb.ref('excluded.metrics'),
        message: eb.ref('excluded.message'),
        received_at: eb.ref('excluded.received_at'),
      })),
    )
    .execute()
}

export async function truncateMetrics(db: Db): Promise<void> {
  await sql`truncate table run_metrics`.execute(db)
}

export const metricsProjection: BatchProjection<TrainingDatabase> = {
  name: METRICS_PROJECTION,
  handles: [HEARTBEAT_TYPE],
  applyBatch: applyHeartbeats,
}
