import type { Kysely, Transaction } from 'kysely'
import type { RecordedEvent } from '@argmax/events'
import { evolveOneRollout, type Rollout, type RolloutEvent } from '../domain/index.ts'
import type { RegistryDatabase } from './database.ts'

type Db = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>

/**
 * A rollout's row, folded with the domain's own `evolveOneRollout` so the listing can never
 * disagree with the decider. An event at or below the row's `last_sequence` was applied.
 */
export async function applyRolloutEvent(db: Db, recorded: RecordedEvent): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as RolloutEvent
  const row = await db
    .selectFrom('rollouts')
    .select(['state', 'last_sequence'])
    .where('rollout_id', '=', event.data.rolloutId)
    .executeTakeFirst()
  if (row && Number(row.last_sequence) >= recorded.sequence) return
  if (!row && event.type !== 'RolloutStarted') return
  const next = evolveOneRollout(row ? (row.state as Rollout) : undefined, event)
  const values = {
    model: next.model,
    candidate: next.candidate,
    stable: next.stable,
    status: next.status,
    step: next.step,
    percent: next.steps[next.step] ?? 100,
    started_by: next.startedBy,
    started_at: next.startedAt,
    updated_at: next.updatedAt,
    ended_at: next.endedAt,
    state: JSON.stringify(next),
    last_sequence: recorded.sequence,
  }
  await db
    .insertInto('rollouts')
    .values({ rollout_id: next.rolloutId, ...values })
    .onConflict((oc) => oc.column('rollout_id').doUpdateSet(values))
    .execute()
}
