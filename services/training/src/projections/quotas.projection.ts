import { sql, type Kysely, type Transaction } from 'kysely'
import type { RecordedEvent } from '@argmax/events'
import type { EventProjection } from '@argmax/projections'
import { QUOTA_EVENT_TYPES, type QuotaEvent } from '../domain/index.ts'
import type { TrainingDatabase } from './tables.ts'

type Db = Kysely<TrainingDatabase> | Transaction<TrainingDatabase>

export const QUOTAS_PROJECTION = 'training-quotas'

/**
 * Admissions and overrides, for the quota API and for the sweep that releases admissions whose
 * run was never written. The decisions themselves are taken on the quota aggregate, never here.
 */
export async function applyQuotaEvent(db: Db, recorded: RecordedEvent): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as QuotaEvent
  switch (event.type) {
    case 'QuotaAdmitted': {
      const d = event.data
      await db
        .insertInto('quota_admissions')
        .values({
          user_id: d.userId,
          run_id: d.runId,
          reason: d.reason,
          admitted_at: d.admittedAt,
          released_at: null,
          release_reason: null,
        })
        .onConflict((oc) =>
          oc.columns(['user_id', 'run_id']).doUpdateSet({
            reason: d.reason,
            admitted_at: d.admittedAt,
            released_at: null,
            release_reason: null,
          }),
        )
        .execute()
      return
    }
    case 'QuotaReleased': {
      const d = event.data
      await db
        .updateTable('quota_admissions')
        .set({ released_at: d.releasedAt, release_reason: d.reason })
        .where('user_id', '=', d.userId)
        .where('run_id', '=', d.runId)
        .execute()
      return
    }
    case 'QuotaOverrideSet': {
      const d = event.data
      await db
        .insertInto('quota_overrides')
        .values({
          user_id: d.userId,
          override: JSON.stringify(d.override),
          set_by: d.by,
          set_at: d.setAt,
        })
        .onConflict((oc) =>
          oc
            .column('user_id')
            .doUpdateSet({ override: JSON.stringify(d.override), set_by: d.by, set_at: d.setAt }),
        )
        .execute()
      return
    }
    default: {
      const unknownEvent: never = event
      void unknownEvent
      return
    }
  }
}

export async function truncateQuotas(db: Db): Promise<void> {
  await sql`truncate table quota_admissions, quota_overrides`.execute(db)
}

export function quotasProjection(subjects: string): EventProjection<TrainingDatabase> {
  return {
    name: QUOTAS_PROJECTION,
    handles: QUOTA_EVENT_TYPES,
    subjects: [subjects],
    apply: applyQuotaEvent,
  }
}
