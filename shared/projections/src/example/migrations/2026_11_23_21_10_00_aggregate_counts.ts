import type { Kysely } from 'kysely'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('aggregate_counts')
    .addColumn('aggregate_id', 'text', (col) => col.primaryKey())
    .addColumn('added', 'integer', (col) => col.notNull())
    .addColumn('removed', 'integer', (col) => col.notNull())
    .addColumn('last_sequence', 'bigint', (col) => col.notNull())
    .addColumn('last_event_type', 'text', (col) => col.notNull())
    .execute()
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('aggregate_counts').execute()
}
