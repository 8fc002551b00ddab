import { classifyInfrastructureError } from '@argmax/errors'
import { createPool, freshSchema, stackEndpoints } from '@argmax/testkit'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { createDatabase } from '../src/database.ts'
import { silentLogger } from '../src/logger.ts'

describe("the database's failures name PostgreSQL", () => {
  it('marks a query killed by the server (57P01) as a postgres outage, a bad query as neither', async () => {
    const { schema } = await freshSchema('marked')
    const database = await createDatabase({
      connectionString: stackEndpoints().postgresUrl,
      schema,
      log: silentLogger,
    })
    try {
      const syntax = await sql`select from nowhere at all`.execute(database.db).catch((e) => e)
      expect((syntax as { code?: string }).code).toBe('42601')
      expect(classifyInfrastructureError(syntax)).toBeUndefined()

      const sleeping = sql`select pg_sleep(30)`.execute(database.db).then(
        () => undefined,
        (error: unknown) => error,
      )
      const admin = createPool(1)
      // The sleeping query's backend, once it runs: terminated as an administrator would.
      for (let attempt = 0; attempt < 200; attempt++) {
        const { rows } = await admin.query<{ pid: number }>(
          `select pid from pg_stat_activity where query like 'select pg_sleep(30)%' and pid <> pg_backend_pid()`,
        )
        if (rows.length > 0) {
          await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid])
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      const failure = await sleeping
      expect((failure as { code?: string }).code).toBe('57P01')
      expect(classifyInfrastructureError(failure)).toEqual({
        dependency: 'postgres',
        reason: 'SQLSTATE 57P01',
      })
    } finally {
      await database.destroy()
    }
  })
})
