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

/**
 * One upsert for the whole batch, whatever its size: the rows travel as five arrays (five
 * parameters) and `unnest` turns them back into rows, so neither Kysely nor PostgreSQL has to
 * handle thousands of placeholders.
 */
async function upsertCounts(trx: Transaction<ExampleDB>, rows: NewAggregateCounts[]) {
  if (rows.length === 0) return
  await sql`
    insert into aggregate_counts (aggregate_id, added, removed, last_sequence, last_event_type)
    select * from unnest(
      ${rows.map((row) => row.aggregate_id)}::text[],
      ${rows.map((row) => row.added)}::integer[],
      ${rows.map((row) => row.removed)}::integer[],
      ${rows.map((row) => row.last_sequence)}::bigint[],
      ${rows.map((row) => row.last_event_type)}::text[]
    )
    on conflict (aggregate_id) do update set
      added = aggregate_counts.added + excluded.added,
      removed = aggregate_counts.removed + excluded.removed,
      last_sequence = excluded.last_sequence,
      last_event_type = excluded.last_event_type
  `.execute(trx)
}
