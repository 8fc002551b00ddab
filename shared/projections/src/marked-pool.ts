import { markDependency } from '@argmax/errors'
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely'
import type pg from 'pg'

const mark = (error: unknown): never => {
  throw markDependency(error, 'postgres')
}

/**
 * The pool as Kysely sees it, with every failure marked as PostgreSQL's: a refused connection
 * or a socket closed mid-query looks the same from any client, and the HTTP shell must be able
 * to answer "postgres is unavailable" (503) rather than a bare 500.
 */
export function markedPool(pool: pg.Pool): PostgresPool {
  // One wrapper per pooled client: Kysely keys its connections by the client object.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>()
  return {
    async connect() {
      const client = await pool.connect().catch(mark)
      let wrapper = wrappers.get(client)
      if (!wrapper) {
        wrapper = markedClient(client)
        wrappers.set(client, wrapper)
      }
      return wrapper
    },
    end: () => pool.end(),
  }
}

function markedClient(client: pg.PoolClient): PostgresPoolClient {
  // A cursor (streaming) reports its own errors as it is read; plain queries are promises.
  function query<R>(
    sql: string,
    parameters: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>>
  function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>
  function query<R>(
    first: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof first !== 'string') return client.query(first as never) as PostgresCursor<R>
    return (
      client.query(first, [...(parameters ?? [])]) as unknown as Promise<PostgresQueryResult<R>>
    ).catch(mark)
  }
  return { query, release: () => client.release() }
}
