import { sql, type Kysely } from 'kysely'
import type { ProjectionsTables } from './checkpoints.table.ts'

/**
 * Any service's database or transaction: the checkpoint table is in every service schema,
 * whatever the rest of its DB type says (Kysely's own idiom for code that spans schemas).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDatabase = Kysely<any>

function own(db: AnyDatabase): Kysely<ProjectionsTables> {
  return db
}

export interface CheckpointKey {
  name: string
  stream: string
}

/** Creates the row at position 0 when missing, so it can be locked; returns the position. */
export async function ensureCheckpoint(
  db: AnyDatabase,
  key: CheckpointKey,
  now: Date,
): Promise<number> {
  await own(db)
    .insertInto('projection_checkpoints')
    .values({ ...key, position: 0, updated_at: now })
    .onConflict((oc) => oc.columns(['name', 'stream']).doNothing())
    .execute()
  return (await readCheckpoint(db, key)) ?? 0
}

export async function readCheckpoint(
  db: AnyDatabase,
  key: CheckpointKey,
): Promise<number | undefined> {
  const row = await own(db)
    .selectFrom('projection_checkpoints')
    .select('position')
    .where('name', '=', key.name)
    .where('stream', '=', key.stream)
    .executeTakeFirst()
  return row ? Number(row.position) : undefined
}

/**
 * Reads the position under a row lock held until the transaction ends: two runners of the same
 * projection (two replicas, or a rebuild next to a live runner) take turns per batch and each
 * skips what the other already committed. With `asyncCommit` the same statement turns off the
 * WAL flush wait for this transaction (one round trip fewer than a separate SET LOCAL).
 */
export async function lockCheckpoint(
  trx: AnyDatabase,
  key: CheckpointKey,
  { asyncCommit = false }: { asyncCommit?: boolean } = {},
): Promise<number | undefined> {
  let query = own(trx)
    .selectFrom('projection_checkpoints')
    .select('position')
    .where('name', '=', key.name)
    .where('stream', '=', key.stream)
    .forUpdate()
  if (asyncCommit) {
    query = query.select(sql<string>`set_config('synchronous_commit', 'off', true)`.as('commit'))
  }
  const row = await query.executeTakeFirst()
  return row ? Number(row.position) : undefined
}

export async function saveCheckpoint(
  db: AnyDatabase,
  key: CheckpointKey,
  position: number,
  now: Date,
): Promise<void> {
  await own(db)
    .insertInto('projection_checkpoints')
    .values({ ...key, position, updated_at: now })
    .onConflict((oc) => oc.columns(['name', 'stream']).doUpdateSet({ position, updated_at: now }))
    .execute()
}

/** Every stream this projection has a checkpoint for, with its position. */
export async function listCheckpoints(
  db: AnyDatabase,
  name: string,
): Promise<Array<{ stream: string; position: number; updatedAt: Date }>> {
  const rows = await own(db)
    .selectFrom('projection_checkpoints')
    .select(['stream', 'position', 'updated_at'])
    .where('name', '=', name)
    .orderBy('stream')
    .execute()
  return rows.map((row) => ({
    stream: row.stream,
    position: Number(row.position),
    updatedAt: row.updated_at,
  }))
}
