import { sql, type Kysely } from 'kysely'
import type { TrainingDatabase } from './tables.ts'

/** Models whose pipeline has a run in progress (the worker's sweep). */
export async function activePipelineModels(db: Kysely<TrainingDatabase>): Promise<string[]> {
  const rows = await db
    .selectFrom('pipelines')
    .select('model')
    .where('run_status', '=', 'running')
    .orderBy('model')
    .execute()
  return rows.map((r) => r.model)
}

export async function listPipelineRows(
  db: Kysely<TrainingDatabase>,
  filter: { ownerId?: string; model?: string; limit: number },
) {
  let query = db.selectFrom('pipelines').selectAll().orderBy('model').limit(filter.limit)
  if (filter.ownerId !== undefined) query = query.where('owner_id', '=', filter.ownerId)
  if (filter.model !== undefined) query = query.where('model', '=', filter.model)
  return query.execute()
}

/** Models whose pipeline has a cron schedule (the worker's sweep fires them). */
export async function scheduledPipelineModels(db: Kysely<TrainingDatabase>): Promise<string[]> {
  const rows = await db
    .selectFrom('pipelines')
    .select('model')
    .where(sql<boolean>`config->'triggers'->>'schedule' is not null`)
    .orderBy('model')
    .execute()
  return rows.map((r) => r.model)
}
