import type { RecordedEvent } from '@argmax/events'
import { sql, type Transaction } from 'kysely'
import type { BatchProjection, EventProjection } from '../projection.ts'
import type { ExampleDB, NewAggregateCounts } from './aggregate-counts.table.ts'

/**
 * The package's example and test projection: counts `ItemAdded` / `ItemRemoved` per aggregate
 * (the last token of the subject, `<context>.<aggregate>.<id>`) and remembers the last event.
 * Any other event type only advances the checkpoint. It is deliberately order-sensitive (the
 * last event wins), so a replay that skipped or reordered events would show in the rows.
 */
export const AGGREGATE_COUNT_TYPES = ['ItemAdded', 'ItemRemoved'] as const

const base = {
  name: 'aggregate_counts',
  handles: AGGREGATE_COUNT_TYPES,
} as const

/** Folds a batch in memory and writes it with one multi-row upsert per chunk. */
export const aggregateCountsProjection: BatchProjection<ExampleDB> = {
  ...base,
  async applyBatch(trx, events) {
    await upsertCounts(trx, foldCounts(events))
  },
}

/** The same rows, one statement per event: the simple way, and the baseline for the batch one. */
export const aggregateCountsEventProjection: EventProjection<ExampleDB> = {
  ...base,
  async apply(trx, event) {
    await upsertCounts(trx, foldCounts([event]))
  },
}

export async function truncateAggregateCounts(trx: Transaction<ExampleDB>): Promise<void> {
  await sql`truncate table aggregate_counts`.execute(trx)
}

/** Pure: the per-aggregate change a batch of events makes. */
export function foldCounts(events: readonly RecordedEvent[]): NewAggregateCounts[] {
  const rows = new Map<string, NewAggregateCounts>()
  for (const event of events) {
    const aggregateId = event.subject.split('.').at(-1) ?? event.subject
    const row = rows.get(aggregateId) ?? {
      aggregate_id: aggregateId,
      added: 0,
      removed: 0,
      last_sequence: 0,
      last_event_type: '',
    }
    if (event.type === 'ItemAdded') row.added += 1
    else if (event.type === 'ItemRemoved') row.removed += 1
    row.last_sequence = event.sequence
    row.last_event_type = event.type
    rows.set(aggregateId, row)
  }
  return [...rows.values()]
}

// 5 parameters a row; Postgres allows 65,535 parameters in one statement.
const ROWS_PER_STATEMENT = 5_000

async function upsertCounts(trx: Transaction<ExampleDB>, rows: NewAggregateCounts[]) {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    await trx
      .insertInto('aggregate_counts')
      .values(rows.slice(start, start + ROWS_PER_STATEMENT))
      .onConflict((oc) =>
        oc.column('aggregate_id').doUpdateSet((eb) => ({
          added: sql<number>`aggregate_counts.added + ${eb.ref('excluded.added')}`,
          removed: sql<number>`aggregate_counts.removed + ${eb.ref('excluded.removed')}`,
          last_sequence: eb.ref('excluded.last_sequence'),
          last_event_type: eb.ref('excluded.last_event_type'),
        })),
      )
      .execute()
  }
}
