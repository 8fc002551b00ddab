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

/**
 * TabSeparated lines written straight into UTF-8 bytes as they are made, cut into chunks (one
 * INSERT each). Joining a chunk's lines into one string and encoding it for the request cost
 * several times more, and grew faster than the batch. A sink writes hundreds of thousands of
 * lines a batch, so the buffer doubles as lines come, and each new chunk starts with room for
 * as much as the last one took.
 */
export class TabSeparatedBuffer {
  private buffer: Buffer
  private length = 0
  /** Lines written since the last cut. */
  lines = 0

  constructor(private readonly firstBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(firstBytes)
  }

  /** Appends one line (its tabs, escapes and newline already in it). */
  write(line: string): void {
    // A UTF-16 unit is at most 3 bytes of UTF-8: with that much room the line always fits.
    const room = line.length * 3
    if (this.length + room > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + room))
      this.buffer.copy(grown, 0, 0, this.length)
      this.buffer = grown
    }
    this.length += this.buffer.write(line, this.length)
    this.lines++
  }

  /** The lines written since the last cut, as one chunk; the next chunk starts empty. */
  cut(): { rows: number; bytes: Buffer } {
    const chunk = { rows: this.lines, bytes: this.buffer.subarray(0, this.length) }
    this.buffer = Buffer.allocUnsafe(Math.max(this.firstBytes, this.length + (this.length >> 3)))
    this.length = 0
    this.lines = 0
    return chunk
  }
}
