import { sql, type Kysely, type Migration } from 'kysely'

// Migrations never import application code: they describe the tables as they were then.
export const rollouts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('rollouts')
      .addColumn('rollout_id', 'text', (c) => c.primaryKey())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('candidate', 'integer', (c) => c.notNull())
      .addColumn('stable', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('step', 'integer', (c) => c.notNull())
      .addColumn('percent', 'integer', (c) => c.notNull())
      .addColumn('started_by', 'text', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .addColumn('ended_at', 'timestamptz')
      .addColumn('state', 'jsonb', (c) => c.notNull())
      .addColumn('last_sequence', 'bigint', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('rollouts_model_started')
      .on('rollouts')
      .columns(['model', 'started_at'])
      .execute()
    await db.schema
      .createIndex('rollouts_active')
      .on('rollouts')
      .column('model')
      .where(sql.ref('ended_at'), 'is', null)
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('rollouts').execute()
  },
}
