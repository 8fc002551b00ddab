import { sql, type Kysely, type Migration } from 'kysely'

// Migrations never import application code: they describe the tables as they were then.
export const catalog: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('datasets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .addColumn('deleted_at', 'timestamptz')
      .addColumn('version_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute()
    await db.schema
      .createIndex('datasets_owner_created')
      .on('datasets')
      .columns(['owner_id', 'created_at', 'id'])
      .execute()
    await db.schema
      .createIndex('datasets_created')
      .on('datasets')
      .columns(['created_at', 'id'])
      .execute()
    await db.schema
      .createIndex('datasets_tags')
      .on('datasets')
      .using('gin')
      .column('tags')
      .execute()
    await db.schema.createIndex('datasets_deleted').on('datasets').column('deleted_at').execute()

    await db.schema
      .createTable('dataset_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('dataset_id', 'text', (c) => c.notNull())
      .addColumn('number', 'integer', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('file_name', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('part_size', 'bigint', (c) => c.notNull())
      .addColumn('part_count', 'integer', (c) => c.notNull())
      .addColumn('bucket', 'text', (c) => c.notNull())
      .addColumn('object_key', 'text', (c) => c.notNull())
      .addColumn('s3_upload_id', 'text', (c) => c.notNull())
      .addColumn('row_count', 'bigint')
      .addColumn('schema', 'jsonb')
      .addColumn('profile', 'jsonb')
      .addColumn('errors', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('checksum_mismatch', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('completed_at', 'timestamptz')
      .addColumn('finished_at', 'timestamptz')
      .addUniqueConstraint('dataset_versions_number', ['dataset_id', 'number'])
      .execute()
    await db.schema
      .createIndex('dataset_versions_status_created')
      .on('dataset_versions')
      .columns(['status', 'created_at'])
      .execute()

    await db.schema
      .createTable('upload_parts')
      .addColumn('version_id', 'text', (c) => c.notNull())
      .addColumn('part_number', 'integer', (c) => c.notNull())
      .addColumn('etag', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('upload_parts_pk', ['version_id', 'part_number'])
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('upload_parts').execute()
    await db.schema.dropTable('dataset_versions').execute()
    await db.schema.dropTable('datasets').execute()
  },
}
