import { sql, type Kysely, type Migration } from 'kysely'

// Migrations never import application code: they describe the tables as they were then.
export const pipelines: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('pipelines')
      .addColumn('model', 'text', (c) => c.primaryKey())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('config', 'jsonb', (c) => c.notNull())
      .addColumn('pin', 'jsonb')
      .addColumn('runs', 'integer', (c) => c.notNull())
      .addColumn('current', 'jsonb')
      .addColumn('run_status', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .addColumn('position', 'bigint', (c) => c.notNull())
      .execute()
    await sql`create index pipelines_owner on pipelines (owner_id, model)`.execute(db)
    await sql`create index pipelines_active on pipelines (model) where run_status = 'running'`.execute(
      db,
    )
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('pipelines').execute()
  },
}
