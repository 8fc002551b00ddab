import { Readable } from 'node:stream'
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client'
import type { ClickhouseSettings } from '@argmax/config'
import { analyticsError } from './errors.ts'

export interface AnalyticsClientOptions {
  /** The database queries run in (`argmax`). */
  database: string
  /** Milliseconds before a request is abandoned (default 30 s). */
  requestTimeoutMs?: number
  /** Connections kept open (default 10). */
  maxOpenConnections?: number
}

/**
 * What the platform does with ClickHouse, over its HTTP interface. Every failure is passed
 * through `analyticsError`: an unreachable or overloaded server is an UnavailableError (503,
 * dependency `clickhouse`). SQL must suit ClickHouse 18.16 and current releases alike: no
 * `{name:Type}` parameters, TTL, DateTime64 or JSONExtract (see docs/analytics.md).
 */
export interface AnalyticsClient {
  readonly database: string
  /** DDL and other statements without a result. */
  command(sql: string): Promise<void>
  /** Rows of a query, as JSONEachRow objects (64-bit integers come back as strings). */
  query<Row = Record<string, unknown>>(sql: string): Promise<Row[]>
  /** A query's result as a byte stream in `format` (e.g. JSONEachRow), for exports. */
  queryStream(sql: string, format: 'JSONEachRow' | 'TabSeparatedWithNames'): Promise<Readable>
  /** One INSERT of `rows` as JSONEachRow into `table` (of this database unless qualified). */
  insert(table: string, rows: readonly object[]): Promise<void>
  /**
   * One INSERT of rows already written as TabSeparated text (`tab-separated.ts`), one line a
   * row, fields in the order of `columns`: the cheapest way in for large batches. The text may
   * come as UTF-8 bytes, which a sink writing into a buffer saves encoding again.
   */
  insertTabSeparated(
    table: string,
    columns: readonly string[],
    text: string | Uint8Array,
  ): Promise<void>
  /** The server's version, e.g. `18.16.1`. */
  version(): Promise<string>
  close(): Promise<void>
}

export function createAnalyticsClient(
  settings: ClickhouseSettings,
  options: AnalyticsClientOptions,
): AnalyticsClient {
  const client: ClickHouseClient = createClient({
    url: settings.url,
    username: settings.user,
    password: settings.password,
    database: options.database,
    request_timeout: options.requestTimeoutMs ?? 30_000,
    max_open_connections: options.maxOpenConnections ?? 10,
    // Failures are the caller's to report (a sink retries them); the client would log each.
    log: { level: ClickHouseLogLevel.OFF },
    // Old servers reject settings they do not know; send none by default.
    clickhouse_settings: {},
  })
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      throw analyticsError(error)
    }
  }
  return {
    database: options.database,
    command: (sql) =>
      call(async () => {
        await client.command({ query: sql })
      }),
    query: <Row>(sql: string) =>
      call(async () => {
        const result = await client.query({ query: sql, format: 'JSONEachRow' })
        return result.json<Row>()
      }),
    queryStream: (sql, format) =>
      call(async () => {
        // `exec` hands back the HTTP body as it comes: bytes, not parsed rows.
        const result = await client.exec({ query: `${sql} FORMAT ${format}` })
        return result.stream
      }),
    insert: (table, rows) =>
      call(async () => {
        if (rows.length === 0) return
        await client.insert({ table, values: rows as object[], format: 'JSONEachRow' })
      }),
    insertTabSeparated: (table, columns, text) =>
      call(async () => {
        if (text.length === 0) return
        await client.insert({
          table,
          // Raw formats go as a byte stream, sent as it is.
          values: Readable.from([text], { objectMode: false }),
          format: 'TabSeparated',
          columns: columns as [string, ...string[]],
        })
      }),
    version: () =>
      call(async () => {
        const result = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
        const [row] = await result.json<{ v: string }>()
        return row?.v ?? ''
      }),
    close: () => client.close(),
  }
}
