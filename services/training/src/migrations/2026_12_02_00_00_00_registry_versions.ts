import type { Kysely, Migration } from 'kysely'

// Migrations never import application code: they describe the tables as they were then.
export const registryVersions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('registry_versions')
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('task', 'text', (c) => c.notNull())
      .addColumn('artifact', 'jsonb', (c) => c.notNull())
      .addColumn('signature', 'jsonb', (c) => c.notNull())
      .addColumn('metrics', 'jsonb', (c) => c.notNull())
      .addColumn('run_id', 'text')
      .addColumn('registered_at', 'timestamptz', (c) => c.notNull())
      .addPrimaryKeyConstraint('registry_versions_pk', ['model', 'version'])
      .execute()
    await db.schema
      .createTable('registry_releases')
      .addColumn('model', 'text', (c) => c.primaryKey())
      .addColumn('stable', 'integer')
      .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('registry_releases').execute()
    await db.schema.dropTable('registry_versions').execute()
  },
}
