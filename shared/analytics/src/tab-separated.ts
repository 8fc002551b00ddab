/**
 * Rows as ClickHouse's `TabSeparated` text, for sinks that write many rows: the text is half
 * the size of JSONEachRow, the server parses it without looking up field names, and one text
 * can be sent to several tables of the same columns. Fields in the table's column order (the
 * INSERT names them); a field's text escapes what TabSeparated reserves.
 */

const RESERVED = /[\\\t\n\r]/
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/** A String column's field: backslash, tab, newline and carriage return escaped. */
export function tsvString(value: string): string {
  return RESERVED.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : value
}

/** A Nullable(String) column's field (`\N` for NULL). */
export function tsvNullableString(value: string | null): string {
  return value === null ? '\\N' : tsvString(value)
}

/**
 * A numeric column's field (`\N` for NULL). JavaScript's shortest round-trip spelling, which
 * ClickHouse reads back to the same Float64 (`1e-7` included); a non-finite number is refused
 * rather than written as text the column cannot hold.
 */
export function tsvNumber(value: number | null): string {
  if (value === null) return '\\N'
  if (!Number.isFinite(value)) throw new RangeError(`${value} cannot be written to ClickHouse`)
  return String(value)
}

/** The DateTime field, its milliseconds (a UInt16 column beside it) and the Date field of a time. */
export interface TsvTimeFields {
  dateTime: string
  ms: number
  date: string
}

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/**
 * The fields of an ISO-8601 time, in UTC. `YYYY-MM-DDTHH:mm:ss.sssZ` (how records spell their
 * times, `Date#toISOString`) is cut without making a Date; any other spelling goes through one.
 */
export function tsvTimeFields(iso: string): TsvTimeFields {
  const utc = ISO_UTC_MS.test(iso) ? iso : new Date(iso).toISOString()
  return {
    dateTime: `${utc.slice(0, 10)} ${utc.slice(11, 19)}`,
    ms: Number(utc.slice(20, 23)),
    date: utc.slice(0, 10),
  }
}
