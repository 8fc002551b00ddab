import { isAscii, isUtf8 } from 'node:buffer'
import { Parser, type CsvError, type Options as CsvParseOptions } from 'csv-parse'
import { parse as parseCsv } from 'csv-parse/sync'
import type { ValidationIssue } from '../validation.types.ts'
import { CarryOver } from '../carry-over.ts'
import { firstInvalidUtf8Offset } from '../utf8.ts'
import type { Delimiter } from './delimiter.ts'

const NUL = 0
const NL = 10
const CR = 13
const QUOTE = 34

/** A record longer than this is refused rather than buffered (it is usually an open quote). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024
const WINDOW_BYTES = 64 * 1024
const QUOTED_BATCH_CHARS = 64 * 1024

export interface CsvSink {
  /** A record's fields and the line it starts on. */
  record(fields: string[], row: number): void
  /**
   * A record without quotes, `text[start, end)` (no line ending), whose fields are what lies
   * between delimiters: handed over uncut so fields can be read in place.
   */
  line(text: string, start: number, end: number, row: number): void
  issue(issue: ValidationIssue): void
  /** The header's name for a field position, once there is a header. */
  columnName(index: number): string | undefined
}

/**
 * Cuts a CSV byte stream into records, in two gears.
 *
 * csv-parse is the reference RFC 4180 parser, but it walks the input byte by byte in
 * JavaScript (≈15–25 MB/s here), too slow for 2 GB files. Most lines of real files hold no
 * quote at all, and for those RFC 4180 reduces to "split the line at the delimiter" — which
 * native `indexOf` does an order of magnitude faster. So:
 * - a line without a quote character is handed over as a range of the decoded text (a
 *   trailing CR dropped), for the reader to find its delimiters in place;
 * - a record containing a quote is located by toggling a quote state across quote characters
 *   (a doubled "" toggles twice, so escapes need no special case) until a newline outside
 *   quotes; runs of such records are parsed by csv-parse, which also judges malformed
 *   quoting. A quoting error stops the splitter: what follows cannot be aligned reliably.
 * Empty lines are skipped (as pandas and csv-parse's skip_empty_lines do).
 *
 * UTF-8 is checked with the native `buffer.isUtf8` over each stretch of complete lines (never
 * splitting a character, since a newline byte cannot occur inside one), and so is the absence
 * of NUL bytes (a native `indexOf`): U+0000 is valid UTF-8, but it is not text, and no column
 * of the version's schema or profile could store it (PostgreSQL refuses it in text and jsonb).
 * Only when a stretch fails are its records checked one by one, to name the line and column
 * of the bad bytes.
 */
export class CsvSplitter {
  stopped = false
  /** Unconsumed bytes; always start at a record boundary. */
  private readonly carry = new CarryOver()
  /** Line of the next record's first byte (1-based). */
  private line = 1
  /** File offset of the first carried byte (or of the next chunk when nothing is carried). */
  private offset = 0
  private readonly parseOptions: CsvParseOptions
  private quotedParser: Parser | null = null

  constructor(
    private readonly delimiter: Delimiter,
    private readonly sink: CsvSink,
    /** File offset of the first byte pushed (after a byte order mark). */
    startOffset = 0,
    private readonly maxRecordBytes = MAX_RECORD_BYTES,
  ) {
    this.offset = startOffset
    this.parseOptions = {
      delimiter,
      record_delimiter: ['\r\n', '\n'],
      quote: '"',
      escape: '"',
      relax_column_count: true,
      skip_empty_lines: true,
      bom: false,
    }
  }

  push(chunk: Buffer): void {
    if (this.stopped) return
    if (this.carry.length > 0 && chunk.indexOf(NL) === -1) {
      // No record can end in a chunk without a newline: keep it aside, uncopied.
      this.carry.add(chunk)
      if (this.carry.length > this.maxRecordBytes) this.refuseLongRecord(this.carry.takeWith())
      return
    }
    const buf = this.carry.length === 0 ? chunk : this.carry.takeWith(chunk)
    const consumed = this.consume(buf, false)
    this.offset += consumed
    if (this.stopped || consumed >= buf.length) return
    const rest = buf.subarray(consumed)
    if (rest.length > this.maxRecordBytes) this.refuseLongRecord(rest)
    else this.carry.add(rest)
  }

  /** The next byte pushed starts line `line` at file offset `offset` (nothing is carried). */
  resumeAt(line: number, offset: number): void {
    if (this.carry.length > 0) throw new Error('resumeAt inside a record')
    this.line = line
    this.offset = offset
  }

  end(): void {
    if (!this.stopped && this.carry.length > 0) this.consume(this.carry.takeWith(), true)
    this.quotedParser?.destroy()
    this.quotedParser = null
  }

  /** Processes the complete records of `buf` (all of it when `final`); returns bytes used. */
  private consume(buf: Buffer, final: boolean): number {
    const len = buf.length
    const regionEnd = final ? len : buf.lastIndexOf(NL) + 1
    let pos = 0
    while (pos < regionEnd && !this.stopped) {
      // Decoding in windows of complete lines keeps strings small (V8 allocates big ones
      // slowly and they outlive the young generation); a record longer than a window gets
      // the rest of the region.
      let end = regionEnd
      if (end - pos > WINDOW_BYTES) {
        const cut = buf.lastIndexOf(NL, pos + WINDOW_BYTES - 1) + 1
        if (cut > pos) end = cut
      }
      let used = this.consumeWindow(buf, pos, end, final && end === len)
      if (used === 0 && end < regionEnd) {
        end = regionEnd
        used = this.consumeWindow(buf, pos, end, final && end === len)
      }
      if (used === 0) break
      pos += used
    }
    return pos
  }

  /** Records of `buf[start, end)`; returns bytes used (less when the last record is cut). */
  private consumeWindow(buf: Buffer, start: number, end: number, final: boolean): number {
    const window = buf.subarray(start, end)
    if (!isUtf8(window) || window.indexOf(NUL) !== -1) {
      return this.consumeSuspect(window, this.offset + start, final)
    }
    // ASCII is the common case and decodes as Latin-1 several times faster than as UTF-8.
    const text = isAscii(window) ? window.toString('latin1') : window.toString('utf8')
    const used = this.consumeText(text, final)
    return used === text.length ? window.length : Buffer.byteLength(text.slice(0, used), 'utf8')
  }

  /** The hot loop, over decoded text; returns the characters used. */
  private consumeText(text: string, final: boolean): number {
    const len = text.length
    const sink = this.sink
    let pos = 0
    let quotePos = -2
    while (pos < len && !this.stopped) {
      let nl = text.indexOf('\n', pos)
      if (nl === -1) {
        if (!final) break
        nl = len
      }
      if (quotePos !== -1 && quotePos < pos) quotePos = text.indexOf('"', pos)
      if (quotePos === -1 || quotePos > nl) {
        let end = nl
        if (end > pos && text.charCodeAt(end - 1) === CR) end--
        if (end > pos) sink.line(text, pos, end, this.line)
        this.line++
        pos = nl + 1
        continue
      }
      // A run of consecutive records with quotes goes to csv-parse in one call: its set-up
      // cost per call is far larger than per record (files that quote every text field).
      const rows: number[] = []
      let end = pos
      let next = quotePos
      let line = this.line
      while (next !== -1 && end - pos < QUOTED_BATCH_CHARS) {
        const recordEnd = findQuotedRecordEnd(text, end, next, '\n', '"')
        if (recordEnd === -1 && !final) break
        const stop = recordEnd === -1 ? len : recordEnd + 1
        rows.push(line)
        line += countNewlines(text, end, stop)
        end = stop
        // Only a record that itself holds a quote joins the run.
        next = text.indexOf('"', end)
        const nextNl = text.indexOf('\n', end)
        if (next !== -1 && nextNl !== -1 && nextNl < next) next = -1
        if (next !== -1 && nextNl === -1 && !final) next = -1
      }
      if (rows.length === 0) break
      this.line = line
      this.parseQuoted(text, pos, end, rows)
      pos = end
    }
    return Math.min(pos, len)
  }

  /**
   * A stretch that is not all valid UTF-8 or holds a NUL byte: cut it into records by bytes,
   * report the bad ones (with line, column and file offset) and run the others through the
   * text path.
   */
  private consumeSuspect(window: Buffer, fileOffset: number, final: boolean): number {
    let pos = 0
    while (pos < window.length && !this.stopped) {
      const end = recordEndInBytes(window, pos, final)
      if (end === -1) break
      const record = window.subarray(pos, end)
      if (isUtf8(record) && record.indexOf(NUL) === -1) {
        this.consumeText(record.toString('utf8'), true)
      } else {
        if (!isUtf8(record)) this.invalidUtf8(record, fileOffset + pos, this.line)
        else this.nulByte(record, fileOffset + pos, this.line)
        this.line += countNewlines(record.toString('latin1'))
      }
      pos = end
    }
    return pos
  }

  /** Records of `text[start, end)`, which start on the lines `rows` (one each). */
  private parseQuoted(text: string, start: number, end: number, rows: number[]): void {
    const records = this.parseWithStream(text.slice(start, end), rows.length)
    if (records !== null) {
      for (let i = 0; i < records.length; i++) this.sink.record(records[i]!, rows[i]!)
      return
    }
    // The run did not parse cleanly: parse its records one by one with the one-shot API to
    // keep the good ones before the broken one and name the broken one's line exactly.
    let from = start
    for (const row of rows) {
      if (this.stopped) return
      const stop = nextRecordEnd(text, from, end)
      try {
        for (const fields of parseCsv(text.slice(from, stop), this.parseOptions) as string[][]) {
          this.sink.record(fields, row)
        }
      } catch (err) {
        if (!isCsvError(err)) throw err
        this.quotingIssue(err, row)
      }
      from = stop
    }
  }

  /**
   * Parses `segment` with one long-lived csv-parse stream (its set-up costs several times a
   * short record's parsing, so it is not paid per record). csv-parse holds back the last two
   * bytes of each write in case they are a CRLF; two extra newlines make it emit the last
   * record now, and it reads them as empty lines, skipped. Returns null when the stream
   * failed or did not give exactly `expected` records; it is then discarded.
   */
  private parseWithStream(segment: string, expected: number): string[][] | null {
    let parser = this.quotedParser
    if (parser === null) {
      parser = new Parser(this.parseOptions)
      // Failures are read from `errored` right after the write; the event is not needed.
      parser.on('error', () => {})
      this.quotedParser = parser
    }
    parser.write(`${segment}\n\n`)
    const records: string[][] = []
    for (
      let r = parser.read() as string[] | null;
      r !== null;
      r = parser.read() as string[] | null
    ) {
      records.push(r)
    }
    if (parser.errored || records.length !== expected) {
      parser.destroy()
      this.quotedParser = null
      return null
    }
    return records
  }

  private quotingIssue(err: CsvError, row: number): void {
    const context = err as CsvError & { lines?: number; column?: number | string | null }
    const line = row + (typeof context.lines === 'number' ? context.lines - 1 : 0)
    const column =
      typeof context.column === 'number' ? this.sink.columnName(context.column) : undefined
    const what =
      err.code === 'CSV_INVALID_CLOSING_QUOTE'
        ? 'a closing quote is followed by something other than a delimiter or a line end'
        : err.code === 'INVALID_OPENING_QUOTE'
          ? 'a quote appears inside an unquoted field (quote the whole field and double inner quotes)'
          : err.code === 'CSV_QUOTE_NOT_CLOSED'
            ? 'a quoted field is still open at the end of the file'
            : err.message
    this.sink.issue({
      code: 'invalid_quoting',
      row,
      ...(column !== undefined ? { column } : {}),
      message: `broken quoting in the record starting on line ${row} (at line ${line}): ${what}`,
    })
    this.stopped = true
  }

  private invalidUtf8(record: Buffer, fileOffset: number, row: number): void {
    const at = Math.max(0, firstInvalidUtf8Offset(record))
    const byte = record[at]!.toString(16).padStart(2, '0')
    this.sink.issue({
      code: 'invalid_utf8',
      row,
      ...this.columnAt(record, at),
      message: `line ${row} is not valid UTF-8: byte 0x${byte} at file offset ${fileOffset + at}`,
    })
  }

  private nulByte(record: Buffer, fileOffset: number, row: number): void {
    const at = record.indexOf(NUL)
    this.sink.issue({
      code: 'nul_character',
      row,
      ...this.columnAt(record, at),
      message: `line ${row} holds a NUL byte (0x00) at file offset ${fileOffset + at}, which is not text`,
    })
  }

  private columnAt(record: Buffer, at: number): { column?: string } {
    const column = this.sink.columnName(fieldIndexAt(record, at, this.delimiter.charCodeAt(0)))
    return column !== undefined ? { column } : {}
  }

  /** The pending bytes hold no record end within the limit: say why and stop. */
  private refuseLongRecord(rest: Buffer): void {
    this.stopped = true
    // An open quote is the usual cause; csv-parse can often say where the quoting went wrong.
    if (rest.indexOf(QUOTE) !== -1) {
      try {
        parseCsv(rest, this.parseOptions)
      } catch (err) {
        if (isCsvError(err) && err.code !== 'CSV_QUOTE_NOT_CLOSED') {
          this.quotingIssue(err, this.line)
          return
        }
      }
    }
    this.sink.issue({
      code: 'record_too_large',
      row: this.line,
      message: `the record starting on line ${this.line} is longer than ${this.maxRecordBytes} bytes (an unclosed quote?)`,
    })
  }
}

/**
 * csv-parse's own error, by its class name: its CommonJS build bundles `csv-parse` and
 * `csv-parse/sync` separately, each with its own CsvError class, so `instanceof` fails for one
 * of them where the code is loaded as CommonJS (the validation worker threads).
 */
function isCsvError(err: unknown): err is CsvError {
  return err instanceof Error && err.constructor.name === 'CsvError'
}

interface Searchable<T> {
  indexOf(value: T, from: number): number
}

/**
 * Index of the newline ending the record that starts at `start` (given the first quote at or
 * after it), or -1 when the record does not end inside `data`. Outside quotes the next newline
 * ends the record, unless a quote comes first: then skip to the closing quote and look again.
 */
export function findQuotedRecordEnd<T>(
  data: Searchable<T>,
  start: number,
  firstQuote: number,
  newline: T,
  quote: T,
): number {
  let from = start
  let next = firstQuote
  for (;;) {
    const nl = data.indexOf(newline, from)
    if (next === -1 || (nl !== -1 && nl < next)) return nl
    const close = data.indexOf(quote, next + 1)
    if (close === -1) return -1
    from = close + 1
    next = data.indexOf(quote, from)
  }
}

/** End (exclusive) of the record starting at `pos`, or -1 when it needs more bytes. */
function recordEndInBytes(buf: Buffer, pos: number, final: boolean): number {
  const nl = buf.indexOf(NL, pos)
  const quote = buf.indexOf(QUOTE, pos)
  const end =
    quote === -1 || (nl !== -1 && nl < quote) ? nl : findQuotedRecordEnd(buf, pos, quote, NL, QUOTE)
  if (end !== -1) return end + 1
  return final ? buf.length : -1
}

function countNewlines(text: string, start = 0, end = text.length): number {
  let n = 0
  let i = text.indexOf('\n', start)
  while (i !== -1 && i < end) {
    n++
    i = text.indexOf('\n', i + 1)
  }
  return n
}

/** End (exclusive) of the record starting at `from`, no further than `limit`. */
function nextRecordEnd(text: string, from: number, limit: number): number {
  const quote = text.indexOf('"', from)
  const nl = text.indexOf('\n', from)
  const end =
    quote === -1 || (nl !== -1 && nl < quote)
      ? nl
      : findQuotedRecordEnd(text, from, quote, '\n', '"')
  return end === -1 || end >= limit ? limit : end + 1
}

/** Which field (0-based) of a record the byte at `at` belongs to, honouring quotes. */
function fieldIndexAt(record: Uint8Array, at: number, delimiter: number): number {
  let field = 0
  let quoted = false
  for (let i = 0; i < at; i++) {
    const b = record[i]!
    if (b === QUOTE) quoted = !quoted
    else if (b === delimiter && !quoted) field++
  }
  return field
}
