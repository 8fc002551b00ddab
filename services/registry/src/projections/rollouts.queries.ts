import type { Kysely } from 'kysely'
import type { Rollout } from '../domain/index.ts'
import type { RegistryDatabase } from './database.ts'

export interface RolloutFilter {
  /** Only rollouts of models this user owns (undefined: every owner). */
  ownerId?: string
  model?: string
  /** `active`: in progress; `ended`: promoted, rolled back or aborted. */
  state?: 'active' | 'ended'
  limit: number
}

/** Rollouts, newest first. */
export async function listRollouts(
  db: Kysely<RegistryDatabase>,
  filter: RolloutFilter,
): Promise<Rollout[]> {
  let query = db
    .selectFrom('rollouts')
    .innerJoin('models', 'models.name', 'rollouts.model')
    .select('rollouts.state')
    .orderBy('rollouts.started_at', 'desc')
    .orderBy('rollouts.rollout_id', 'desc')
    .limit(filter.limit)
  if (filter.ownerId !== undefined) query = query.where('models.owner_id', '=', filter.ownerId)
  if (filter.model !== undefined) query = query.where('rollouts.model', '=', filter.model)
  if (filter.state === 'active') query = query.where('rollouts.ended_at', 'is', null)
  if (filter.state === 'ended') query = query.where('rollouts.ended_at', 'is not', null)
  const rows = await query.execute()
  return rows.map((row) => row.state as Rollout)
}

/** Models with a rollout in progress: what the rollout worker visits. */
export async function modelsWithActiveRollouts(db: Kysely<RegistryDatabase>): Promise<string[]> {
  const rows = await db
    .selectFrom('rollouts')
    .select('model')
    .distinct()
    .where('ended_at', 'is', null)
    .execute()
  return rows.map((row) => row.model)
}
