import type { AnalyticsClient } from './client.ts'

/**
 * Ordered ClickHouse DDL for the platform's database, recorded in `analytics_migrations`.
 * ClickHouse has no transactional DDL, so each statement must be idempotent on its own
 * (`CREATE TABLE IF NOT EXISTS`, `CREATE VIEW IF NOT EXISTS`, `ALTER … ADD COLUMN IF NOT
 * EXISTS` is not in 18.16 — add columns in a new table's migration, or check `system.columns`
 * first): a process killed between a statement and the record runs the migration again, and two
 * processes starting at once may both run it. `{db}` in a statement is the database's name.
 */
export interface AnalyticsMigration {
  /** `YYYY_MM_DD_HH_mm_ss_name`: the order they run in. */
  name: string
  statements: readonly string[]
}

const NAME = /^\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}_[a-z0-9_]+$/

export const MIGRATIONS_TABLE = 'analytics_migrations'

/**
 * Runs the migrations not yet recorded, in name order, and returns the names it ran. The record
 * table is a ReplacingMergeTree keyed by name and read with FINAL, so two processes recording
 * the same migration leave one row.
 */
export async function migrateAnalytics(
  client: AnalyticsClient,
  migrations: readonly AnalyticsMigration[],
): Promise<string[]> {
  const names = new Set<string>()
  for (const migration of migrations) {
    if (!NAME.test(migration.name)) {
      throw new Error(
        `analytics migration name ${JSON.stringify(migration.name)} must look like YYYY_MM_DD_HH_mm_ss_name`,
      )
    }
    if (names.has(migration.name)) {
      throw new Error(`analytics migration ${migration.name} is listed twice`)
    }
    names.add(migration.name)
  }
  const db = client.database
  await client.command(
    `CREATE TABLE IF NOT EXISTS ${db}.${MIGRATIONS_TABLE} (name String, applied_at DateTime) ` +
      `ENGINE = ReplacingMergeTree() ORDER BY name`,
  )
  const applied = new Set(
    (await client.query<{ name: string }>(`SELECT name FROM ${db}.${MIGRATIONS_TABLE} FINAL`)).map(
      (row) => row.name,
    ),
  )
  const ran: string[] = []
  for (const migration of [...migrations].sort((a, b) => a.name.localeCompare(b.name))) {
    if (applied.has(migration.name)) continue
    for (const statement of migration.statements) {
      await client.command(statement.replaceAll('{db}', db))
    }
    await client.insert(`${db}.${MIGRATIONS_TABLE}`, [
      { name: migration.name, applied_at: clickhouseDateTime(new Date()) },
    ])
    ran.push(migration.name)
  }
  return ran
}

/** `YYYY-MM-DD hh:mm:ss` in UTC: how both old and new servers read a DateTime from JSON. */
export function clickhouseDateTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ')
}

/** `YYYY-MM-DD` in UTC. */
export function clickhouseDate(date: Date): string {
  return date.toISOString().slice(0, 10)
}
