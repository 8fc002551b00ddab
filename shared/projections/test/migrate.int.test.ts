import { stackEndpoints, uniqueName } from '@argmax/testkit'
import { Kysely, PostgresDialect, sql, type Migration } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createDatabase } from '../src/database.ts'
import { MigrationFailedError } from '../src/errors.ts'
import { exampleMigrations } from '../src/example/index.ts'
import { silentLogger } from '../src/logger.ts'
import { migrateToLatest } from '../src/migrate.ts'
import { projectionMigrations } from '../src/migrations/index.ts'

async function openDatabase(schema: string) {
  const database = await createDatabase({
    connectionString: stackEndpoints().postgresUrl,
    schema,
    poolMax: 2,
    log: silentLogger,
  })
  afterAll(() => database.destroy())
  return database
}

async function tablesOf(db: Kysely<unknown>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = ${schema} order by table_name`.execute(db)
  return rows.map((row) => row.table_name)
}

describe('createDatabase', () => {
  it('creates the schema when missing and resolves unqualified names in it', async () => {
    const schema = uniqueName('db').toLowerCase()
    const { db } = await openDatabase(schema)
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
    expect(rows[0]?.schema).toBe(schema)
    await sql`create table t (x int)`.execute(db)
    expect(await tablesOf(db, schema)).toEqual(['t'])
  })

  it('opens an existing schema again (two services starting at once)', async () => {
    const schema = uniqueName('db').toLowerCase()
    const [a, b] = await Promise.all([openDatabase(schema), openDatabase(schema)])
    await sql`create table t (x int)`.execute(a.db)
    expect(await tablesOf(b.db, schema)).toEqual(['t'])
  })
})

describe('migrateToLatest', () => {
  it('runs every migration once, keeps its bookkeeping in the schema, and is a no-op again', async () => {
    const schema = uniqueName('mig').toLowerCase()
    const { db } = await openDatabase(schema)
    const first = await migrateToLatest(db, schema, exampleMigrations)
    expect(first).toEqual([...Object.keys(projectionMigrations), ...Object.keys(exampleMigrations)])
    expect(await tablesOf(db, schema)).toEqual([
      'aggregate_counts',
      'kysely_migration',
      'kysely_migration_lock',
      'projection_checkpoints',
    ])
    expect(await migrateToLatest(db, schema, exampleMigrations)).toEqual([])
    const { rows } = await sql<{ n: string }>`select count(*) as n from kysely_migration`.execute(
      db,
    )
    expect(Number(rows[0]?.n)).toBe(2)
  })

  it('runs once when several processes migrate the same schema at the same time', async () => {
    const schema = uniqueName('mig').toLowerCase()
    const handles = await Promise.all([openDatabase(schema), openDatabase(schema)])
    const results = await Promise.all(
      handles.map(({ db }) => migrateToLatest(db, schema, exampleMigrations)),
    )
    expect(results.map((names) => names.length).sort()).toEqual([0, 2])
  })

  it('names the migration that failed and leaves the schema as it was', async () => {
    const schema = uniqueName('mig').toLowerCase()
    const { db } = await openDatabase(schema)
    const broken: Migration = {
      up: async (trx) => {
        await sql`create table half_done (x int)`.execute(trx)
        await sql`select * from no_such_table`.execute(trx)
      },
    }
    const attempt = migrateToLatest(db, schema, {
      ...exampleMigrations,
      '2026_11_23_22_00_00_broken': broken,
    })
    await expect(attempt).rejects.toThrow(MigrationFailedError)
    await expect(attempt).rejects.toThrow(/2026_11_23_22_00_00_broken.*no_such_table/)
    // PostgreSQL has transactional DDL: the whole run rolled back.
    expect(await tablesOf(db, schema)).not.toContain('half_done')
  })

  it("refuses a connection whose search_path is not the service's schema", async () => {
    const pool = new pg.Pool({ connectionString: stackEndpoints().postgresUrl, max: 1 })
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    afterAll(() => db.destroy())
    await expect(migrateToLatest(db, 'someservice', {})).rejects.toThrow(
      /search_path resolves to public/,
    )
  })
})
