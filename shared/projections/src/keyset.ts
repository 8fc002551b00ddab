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
