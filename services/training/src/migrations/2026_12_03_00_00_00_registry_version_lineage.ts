import type { Kysely, Migration } from 'kysely'

// Migrations never import application code: they describe the tables as they were then.
// What each registry version was trained on and with which seed: the evaluation checks that
// the candidate's holdout holds no row the serving version trained on.
export const registryVersionLineage: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('registry_versions')
      .addColumn('dataset_version_id', 'text')
      .addColumn('seed', 'bigint')
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema
      .alterTable('registry_versions')
      .dropColumn('dataset_version_id')
      .dropColumn('seed')
      .execute()
  },
}
