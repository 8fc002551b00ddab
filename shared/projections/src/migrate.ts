import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely'
import { MigrationFailedError } from './errors.ts'
import { projectionMigrations } from './migrations/index.ts'
import { assertSchemaName } from './schema-name.ts'

/** An in-code provider: migrations are imported modules, named `YYYY_MM_DD_HH_mm_ss_name`. */
class RecordMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations
  }
}

const MIGRATION_NAME = /^\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}_[a-z0-9_]+$/

/**
 * Brings the service's schema to the latest version at start-up. The package's own tables
 * (projection checkpoints) are included, the bookkeeping tables live in the service's schema,
 * and a failure throws naming the migration that failed. Running it again is a no-op; several
 * processes starting at once are serialised by Kysely's migration lock.
 *
 * Returns the names of the migrations this call executed.
 */
export async function migrateToLatest(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  schema: string,
  migrations: Record<string, Migration>,
): Promise<string[]> {
  assertSchemaName(schema)
  const all = mergeMigrations(migrations)
  // Migrations create tables unqualified; they must land in the service's schema.
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
    db,
  )
  if (rows[0]?.schema !== schema) {
    throw new MigrationFailedError(
      schema,
      undefined,
      `the connection's search_path resolves to ${rows[0]?.schema ?? 'no schema'}; ` +
        `open the database with createDatabase({ schema: '${schema}' })`,
    )
  }
  const migrator = new Migrator({
    db,
    provider: new RecordMigrationProvider(all),
    migrationTableSchema: schema,
  })
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')
    throw new MigrationFailedError(schema, failed?.migrationName, error)
  }
  return results.filter((result) => result.status === 'Success').map((r) => r.migrationName)
}

/** The service's migrations plus this package's, refusing names that clash or do not sort. */
export function mergeMigrations(migrations: Record<string, Migration>): Record<string, Migration> {
  for (const name of Object.keys(migrations)) {
    if (!MIGRATION_NAME.test(name)) {
      throw new MigrationFailedError(
        '(any)',
        name,
        'migration names must look like YYYY_MM_DD_HH_mm_ss_snake_case_name so they sort by time',
      )
    }
    const ours = projectionMigrations[name]
    if (ours !== undefined && ours !== migrations[name]) {
      throw new MigrationFailedError('(any)', name, 'the name is taken by @argmax/projections')
    }
  }
  return { ...projectionMigrations, ...migrations }
}
