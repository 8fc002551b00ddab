import { freshSchema, stackEndpoints } from '@argmax/testkit'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, type Database } from '../src/database.ts'
import { keysetPage } from '../src/keyset.ts'
import { silentLogger } from '../src/logger.ts'

interface ItemsDB {
  items: { id: string; created_at: Date; owner: string }
}

/** Rows with ties on the timestamp, so the key has to break them. */
const ROWS = Array.from({ length: 11 }, (_, i) => ({
  id: `item-${String(i).padStart(2, '0')}`,
  created_at: new Date(Date.UTC(2026, 11, 1, 0, 0, Math.floor(i / 3))),
  owner: i % 2 === 0 ? 'alice' : 'bob',
}))

describe('keysetPage against PostgreSQL', () => {
  let database: Database<ItemsDB>
  beforeAll(async () => {
    const { schema } = await freshSchema('keyset')
    database = await createDatabase<ItemsDB>({
      connectionString: stackEndpoints().postgresUrl,
      schema,
      log: silentLogger,
    })
    await sql`create table items (id text primary key, created_at timestamptz not null, owner text not null)`.execute(
      database.db,
    )
    await database.db.insertInto('items').values(ROWS).execute()
  })
  afterAll(() => database?.destroy())

  async function walk(limit: number, oldestFirst: boolean, owner?: string): Promise<string[]> {
    const seen: string[] = []
    let cursor: string | undefined
    for (let pages = 0; pages < 20; pages++) {
      let select = database.db.selectFrom('items').selectAll()
      if (owner) select = select.where('owner', '=', owner)
      const page = await keysetPage(
        select,
        { at: 'created_at', key: 'id' },
        { cursor, limit, oldestFirst },
      )
      expect(page.rows.length).toBeLessThanOrEqual(limit)
      seen.push(...page.rows.map((row) => row.id))
      if (page.nextCursor === null) return seen
      cursor = page.nextCursor
    }
    throw new Error('the pages never ended')
  }

  it.each([1, 2, 3, 4, 11, 50])(
    'walks every row once, newest first, in pages of %i',
    async (limit) => {
      const newestFirst = ROWS.map((row) => row.id).reverse()
      expect(await walk(limit, false)).toEqual(newestFirst)
    },
  )

  it('walks oldest first, and keeps the filters on every page', async () => {
    expect(await walk(2, true)).toEqual(ROWS.map((row) => row.id))
    expect(await walk(2, true, 'bob')).toEqual(
      ROWS.filter((row) => row.owner === 'bob').map((row) => row.id),
    )
  })
})
