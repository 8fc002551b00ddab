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

describe('a connection PostgreSQL drops while a query holds it', () => {
  it('fails what held it and nothing else: no uncaught error, logged once, the pool serves on', async () => {
    const { schema } = await freshSchema('dropped')
    const logged: string[] = []
    const log = { ...silentLogger, error: (_: unknown, message: string) => logged.push(message) }
    const database = await createDatabase({
      connectionString: stackEndpoints().postgresUrl,
      schema,
      log,
    })
    // pg emits a dead socket as the client's 'error'; pg-pool listens only while it is idle.
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    const admin = createPool(1)
    try {
      const failure = await database.db
        .connection()
        .execute(async (connection) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(
            connection,
          )
          // Terminated between two queries: the socket closes while the connection is held.
          await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid])
          await new Promise((resolve) => setTimeout(resolve, 300))
          return sql`select 1`.execute(connection)
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        )
      expect(failure).toBeInstanceOf(Error)
      expect(classifyInfrastructureError(failure)).toMatchObject({ dependency: 'postgres' })
      expect(uncaught).toEqual([])
      expect(logged).toEqual(['postgres connection failed'])
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db)
      expect(rows).toEqual([{ one: 1 }])
    } finally {
      process.off('uncaughtException', onUncaught)
      await admin.end()
      await database.destroy()
    }
  })
})
