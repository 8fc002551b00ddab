import { sql, type Kysely, type Migration } from 'kysely'

// Migrations never import application code: they describe the tables as they were then.
export const catalog: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('models')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('task', 'text')
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .addColumn('deleted_at', 'timestamptz')
      .addColumn('version_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('latest_version', 'integer')
      .execute()
    await db.schema
      .createIndex('models_owner_created')
      .on('models')
      .columns(['owner_id', 'created_at', 'name'])
      .execute()
    await db.schema
      .createIndex('models_created')
      .on('models')
      .columns(['created_at', 'name'])
      .execute()
    await db.schema.createIndex('models_tags').on('models').using('gin').column('tags').execute()
    await db.schema.createIndex('models_deleted').on('models').column('deleted_at').execute()

    await db.schema
      .createTable('model_versions')
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('task', 'text', (c) => c.notNull())
      .addColumn('artifact', 'jsonb', (c) => c.notNull())
      .addColumn('signature_ref', 'jsonb', (c) => c.notNull())
      .addColumn('artifacts', 'jsonb', (c) => c.notNull())
      .addColumn('metrics', 'jsonb', (c) => c.notNull())
      .addColumn('params', 'jsonb')
      .addColumn('params_omitted', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('trainer', 'jsonb')
      .addColumn('libraries', 'jsonb')
      .addColumn('target', 'text')
      .addColumn('seed', 'bigint')
      .addColumn('description', 'text')
      .addColumn('source', 'jsonb', (c) => c.notNull())
      .addColumn('lineage', 'jsonb', (c) => c.notNull())
      .addColumn('registered_at', 'timestamptz', (c) => c.notNull())
      .addColumn('registered_by', 'text', (c) => c.notNull())
      .addColumn('deleted_at', 'timestamptz')
      .addPrimaryKeyConstraint('model_versions_pk', ['model', 'version'])
      .execute()
    await db.schema
      .createIndex('model_versions_deleted')
      .on('model_versions')
      .column('deleted_at')
      .execute()

    await db.schema
      .createTable('version_annotations')
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('annotation_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('data', 'jsonb')
      .addColumn('annotated_at', 'timestamptz', (c) => c.notNull())
      .addColumn('annotated_by', 'text', (c) => c.notNull())
      .addColumn('sequence', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('version_annotations_pk', ['model', 'version', 'annotation_id'])
      .execute()

    await db.schema
      .createTable('model_aliases')
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('alias', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_aliases_pk', ['model', 'alias'])
      .execute()

    await db.schema
      .createTable('alias_history')
      .addColumn('sequence', 'bigint', (c) => c.primaryKey())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('alias', 'text', (c) => c.notNull())
      .addColumn('version', 'integer')
      .addColumn('previous', 'integer')
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('at', 'timestamptz', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('alias_history_model_alias')
      .on('alias_history')
      .columns(['model', 'alias', 'sequence'])
      .execute()

    await db.schema
      .createTable('releases')
      .addColumn('model', 'text', (c) => c.primaryKey())
      .addColumn('release', 'jsonb')
      .addColumn('sequence', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
      .addColumn('changed_by', 'text', (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('release_history')
      .addColumn('sequence', 'bigint', (c) => c.primaryKey())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('release', 'jsonb')
      .addColumn('previous', 'jsonb')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('breaking', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
      .addColumn('changed_by', 'text', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('release_history_model')
      .on('release_history')
      .columns(['model', 'sequence'])
      .execute()

    await db.schema
      .createTable('registration_refusals')
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('refused_at', 'timestamptz', (c) => c.notNull())
      .addPrimaryKeyConstraint('registration_refusals_pk', ['model', 'run_id'])
      .execute()

    await db.schema
      .createTable('model_uploads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('bucket', 'text', (c) => c.notNull())
      .addColumn('object_key', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text')
      .addColumn('signature_ref', 'jsonb', (c) => c.notNull())
      .addColumn('task', 'text', (c) => c.notNull())
      .addColumn('version', 'integer')
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('finished_at', 'timestamptz')
      .execute()
    await db.schema
      .createIndex('model_uploads_status_started')
      .on('model_uploads')
      .columns(['status', 'started_at'])
      .execute()

    // Not a projection: declared signatures and training's schema.json, content-addressed by
    // their SHA-256 and verified against it when read from storage. A cache of what storage
    // holds, filled as versions are registered or read; a rebuild leaves it alone.
    await db.schema
      .createTable('signature_cache')
      .addColumn('sha256', 'text', (c) => c.primaryKey())
      .addColumn('body', 'jsonb', (c) => c.notNull())
      .addColumn('stored_at', 'timestamptz', (c) => c.notNull())
      .execute()
  },
  async down(db: Kysely<unknown>) {
    for (const table of [
      'signature_cache',
      'model_uploads',
      'registration_refusals',
      'release_history',
      'releases',
      'alias_history',
      'model_aliases',
      'version_annotations',
      'model_versions',
      'models',
    ]) {
      await db.schema.dropTable(table).execute()
    }
  },
}
