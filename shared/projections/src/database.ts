import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { CheckpointListener, registerCheckpointListener } from './checkpoint-listener.ts'
import type { ProjectionLogger } from './logger.ts'
import { markedPool } from './marked-pool.ts'
import { assertSchemaName } from './schema-name.ts'

export interface DatabaseOptions {
  connectionString: string
  /** The service's own schema: every unqualified table name resolves in it, and only in it. */
  schema: string
  poolMax?: number
  /** The service's logger: a dropped connection and listener failures are logged. */
  log: ProjectionLogger
}

export interface Database<DB> {
  db: Kysely<DB>
  pool: pg.Pool
  schema: string
  /** Closes the checkpoint listener (if one was opened) and every pooled connection. */
  destroy(): Promise<void>
}

const DUPLICATE_SCHEMA = new Set(['42P06', '23505'])

/**
 * Opens a pool whose connections have `search_path` set to the service's schema (one schema per
 * service: a service cannot read another's tables by accident) and creates the schema when it is
 * missing. The search path is sent in the startup packet, so it is in force before the first
 * query on every connection, including ones the pool opens later.
 */
export async function createDatabase<DB>(options: DatabaseOptions): Promise<Database<DB>> {
  const schema = assertSchemaName(options.schema)
  const log = options.log
  const config: pg.PoolConfig = {
    connectionString: options.connectionString,
    options: `-c search_path=${schema}`,
    max: options.poolMax ?? 10,
  }
  const pool = new pg.Pool(config)
  // A connection the server drops (a restart, a failover, an administrator) must not end the
  // process. pg reports a dead socket as the client's 'error'; pg-pool hears it, as the pool's
  // 'error', only while the client is idle. So every client gets a listener of its own, which
  // also covers a client a query holds: that query fails with the error, and the pool discards
  // the client when it comes back. The pool's own event is then heard here already.
  pool.on('connect', (client) => {
    let failed = false
    client.on('error', (error) => {
      // The server's error, then the socket's end: one failure, logged once.
      if (failed) return
      failed = true
      log.error({ err: error, schema }, 'postgres connection failed')
    })
  })
  pool.on('error', () => undefined)
  try {
    await createSchemaIfMissing(pool, schema)
  } catch (error) {
    await pool.end()
    throw error
  }
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: markedPool(pool) }) })
  const listener = new CheckpointListener(config, schema, log)
  registerCheckpointListener(db, listener)
  return {
    db,
    pool,
    schema,
    async destroy() {
      await listener.close()
      await db.destroy()
    },
  }
}

async function createSchemaIfMissing(pool: pg.Pool, schema: string): Promise<void> {
  try {
    // The name is validated (lower-case identifier): interpolating it is safe.
    await pool.query(`create schema if not exists ${schema}`)
  } catch (error) {
    // Two processes creating the same schema at once: one of them loses the race, harmlessly.
    const code = (error as { code?: string }).code
    if (!code || !DUPLICATE_SCHEMA.has(code)) throw error
  }
}
