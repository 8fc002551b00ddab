import { sql, type SelectQueryBuilder } from 'kysely'

/**
 * Keyset pagination for read models listed newest first: the cursor is the last row's
 * (timestamp, unique key), opaque to clients. A cursor that does not decode reads as none.
 */
export interface KeysetPosition {
  /** ISO timestamp of the last row. */
  at: string
  /** The last row's unique key (id or name), breaking ties between equal timestamps. */
  key: string
}

export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(`${position.at}|${position.key}`).toString('base64url')
}

export function decodeCursor(cursor: string): KeysetPosition | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const bar = text.indexOf('|')
  const at = text.slice(0, bar)
  const key = text.slice(bar + 1)
  if (bar < 0 || !at || !key || Number.isNaN(Date.parse(at))) return undefined
  return { at, key }
}

/** A user's text as a literal inside a LIKE pattern (`%`, `_` and `\` lose their meaning). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/**
 * One page of a read model listed by (timestamp, unique key): the rows after the cursor, one
 * more than asked for to know whether a next page exists, and the cursor of that page. The two
 * columns are compared as a row value, `(at, key) < (…)`, which is exactly the order the page is
 * sorted in, newest first unless `oldestFirst`.
 */
export async function keysetPage<DB, TB extends keyof DB, O>(
  select: SelectQueryBuilder<DB, TB, O>,
  columns: { at: string & keyof O; key: string & keyof O },
  page: { cursor?: string | undefined; limit: number; oldestFirst?: boolean | undefined },
): Promise<{ rows: O[]; nextCursor: string | null }> {
  const at = sql.ref(columns.at)
  const key = sql.ref(columns.key)
  const after = page.cursor ? decodeCursor(page.cursor) : undefined
  const direction = page.oldestFirst ? 'asc' : 'desc'
  const filtered = after
    ? select.where(
        sql<boolean>`(${at}, ${key}) ${sql.raw(page.oldestFirst ? '>' : '<')} (${new Date(after.at)}, ${after.key})`,
      )
    : select
  const rows = await filtered
    .orderBy(at, direction)
    .orderBy(key, direction)
    .limit(page.limit + 1)
    .execute()
  const items = rows.slice(0, page.limit)
  const last = items.at(-1)
  return {
    rows: items,
    nextCursor:
      rows.length > page.limit && last
        ? encodeCursor({
            at: (last[columns.at] as Date).toISOString(),
            key: String(last[columns.key]),
          })
        : null,
  }
}
