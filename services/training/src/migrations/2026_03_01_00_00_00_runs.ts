import { sql, type Kysely, type Migration } from 'kysely'

// Migrations never import application code: they describe the tables as they were then.
export const runs: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('task', 'text', (c) => c.notNull())
      .addColumn('trainer', 'jsonb', (c) => c.notNull())
      .addColumn('dataset_id', 'text', (c) => c.notNull())
      .addColumn('version_id', 'text', (c) => c.notNull())
      .addColumn('dataset_sha256', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('features', 'jsonb', (c) => c.notNull())
      .addColumn('params', 'jsonb', (c) => c.notNull())
      .addColumn('priority', 'text', (c) => c.notNull())
      .addColumn('queue_priority', 'text', (c) => c.notNull())
      .addColumn('resources', 'jsonb', (c) => c.notNull())
      .addColumn('timeout_seconds', 'integer', (c) => c.notNull())
      .addColumn('seed', 'bigint', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('attempts_allowed', 'integer', (c) => c.notNull())
      .addColumn('runner', 'text')
      .addColumn('queued_at', 'timestamptz', (c) => c.notNull())
      .addColumn('waiting_since', 'timestamptz', (c) => c.notNull())
      .addColumn('not_before', 'timestamptz', (c) => c.notNull())
      .addColumn('first_started_at', 'timestamptz')
      .addColumn('attempt_started_at', 'timestamptz')
      .addColumn('deadline', 'timestamptz')
      .addColumn('finished_at', 'timestamptz')
      .addColumn('failure', 'jsonb')
      .addColumn('metrics', 'jsonb')
      .addColumn('artifacts', 'jsonb')
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .addColumn('position', 'bigint', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('runs_owner_queued')
      .on('runs')
      .columns(['owner_id', 'queued_at', 'id'])
      .execute()
    await db.schema.createIndex('runs_queued').on('runs').columns(['queued_at', 'id']).execute()
    await db.schema.createIndex('runs_status').on('runs').columns(['status', 'queued_at']).execute()
    await db.schema.createIndex('runs_dataset').on('runs').columns(['dataset_id']).execute()
    await db.schema.createIndex('runs_finished').on('runs').columns(['finished_at']).execute()

    await db.schema
      .createTable('run_attempts')
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('runner', 'text', (c) => c.notNull())
      .addColumn('priority', 'text', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('ended_at', 'timestamptz')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('message', 'text')
      .addColumn('exit_code', 'integer')
      .addPrimaryKeyConstraint('run_attempts_pk', ['run_id', 'attempt'])
      .execute()

    await db.schema
      .createTable('run_metrics')
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('iteration', 'integer', (c) => c.notNull())
      .addColumn('total_iterations', 'integer', (c) => c.notNull())
      .addColumn('metrics', 'jsonb', (c) => c.notNull())
      .addColumn('message', 'text')
      .addColumn('received_at', 'timestamptz', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_metrics_pk', ['run_id', 'attempt', 'iteration'])
      .execute()

    await db.schema
      .createTable('quota_admissions')
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('admitted_at', 'timestamptz', (c) => c.notNull())
      .addColumn('released_at', 'timestamptz')
      .addColumn('release_reason', 'text')
      .addPrimaryKeyConstraint('quota_admissions_pk', ['user_id', 'run_id'])
      .execute()
    await db.schema
      .createIndex('quota_admissions_open')
      .on('quota_admissions')
      .columns(['admitted_at'])
      .where(sql.ref('released_at'), 'is', null)
      .execute()

    await db.schema
      .createTable('quota_overrides')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('override', 'jsonb', (c) => c.notNull())
      .addColumn('set_by', 'text', (c) => c.notNull())
      .addColumn('set_at', 'timestamptz', (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('dataset_versions')
      .addColumn('version_id', 'text', (c) => c.primaryKey())
      .addColumn('dataset_id', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('bucket', 'text', (c) => c.notNull())
      .addColumn('object_key', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('row_count', 'bigint')
      .addColumn('schema', 'jsonb')
      .addColumn('dataset_deleted', 'boolean', (c) => c.notNull().defaultTo(false))
      .execute()
    await db.schema
      .createIndex('dataset_versions_dataset')
      .on('dataset_versions')
      .column('dataset_id')
      .execute()
  },
  async down(db: Kysely<unknown>) {
    for (const table of [
      'dataset_versions',
      'quota_overrides',
      'quota_admissions',
      'run_metrics',
      'run_attempts',
      'runs',
    ]) {
      await db.schema.dropTable(table).execute()
    }
  },
}
