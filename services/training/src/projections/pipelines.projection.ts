import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { RecordedEvent } from '@argmax/events'
import type { EventProjection } from '@argmax/projections'
import {
  PIPELINE_EVENT_TYPES,
  evolvePipeline,
  type PipelineConfig,
  type PipelineEvent,
  type PipelineRecord,
  type PipelineRun,
  type PipelineState,
} from '../domain/index.ts'
import type { PipelinesTable, TrainingDatabase } from './tables.ts'

type Db = Kysely<TrainingDatabase> | Transaction<TrainingDatabase>

/** A row as the decider's state (without what only the aggregate needs: seen sources). */
export function pipelineStateOfRow(row: Selectable<PipelinesTable>): PipelineRecord {
  return {
    status: 'present',
    model: row.model,
    ownerId: row.owner_id,
    config: row.config as unknown as PipelineConfig,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    runs: row.runs,
    current: row.current as unknown as PipelineRun | null,
    pin: row.pin ?? null,
    seenSources: new Set(),
    lastScheduleSlot: null,
  }
}

export const PIPELINES_PROJECTION = 'training-pipelines'

/**
 * Pipelines for the list API and the worker's sweep (which models have a run in progress).
 * The row keeps what the decider folds (config, pin, current run), so each event is applied
 * with the decider's own `evolve`; the position guard makes a replayed event a no-op.
 */
export async function applyPipelineEvent(db: Db, recorded: RecordedEvent): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as PipelineEvent
  const model = (event.data as { model: string }).model
  const row = await db
    .selectFrom('pipelines')
    .selectAll()
    .where('model', '=', model)
    .executeTakeFirst()
  if (row && Number(row.position) >= recorded.sequence) return
  const before: PipelineState = row ? pipelineStateOfRow(row) : { status: 'absent' }
  const after = evolvePipeline(before, event)
  if (after.status === 'absent') return
  const values = {
    owner_id: after.ownerId,
    config: JSON.stringify(after.config),
    pin: after.pin ? JSON.stringify(after.pin) : null,
    runs: after.runs,
    current: after.current ? JSON.stringify(after.current) : null,
    run_status: after.current?.status ?? null,
    updated_at: recorded.occurredAt,
    position: recorded.sequence,
  }
  await db
    .insertInto('pipelines')
    .values({ model, created_at: after.createdAt, ...values })
    .onConflict((oc) => oc.column('model').doUpdateSet(values))
    .execute()
}

export async function truncatePipelines(db: Db): Promise<void> {
  await sql`truncate table pipelines`.execute(db)
}

export function pipelinesProjection(subjects: string): EventProjection<TrainingDatabase> {
  return {
    name: PIPELINES_PROJECTION,
    handles: PIPELINE_EVENT_TYPES,
    subjects: [subjects],
    apply: applyPipelineEvent,
  }
}
