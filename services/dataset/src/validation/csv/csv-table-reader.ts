import type { FormatReader } from '../format-reader.ts'
import type { IssueCollector } from '../issue-collector.ts'
import { truncate } from '../profile/strings.ts'
import { MAX_COLUMNS, type TableProfiler } from '../profile/table-profiler.ts'
import type { ValidationIssue } from '../validation.types.ts'
import { CsvSplitter, type CsvSink } from './csv-splitter.ts'
import { detectDelimiter, type Delimiter } from './delimiter.ts'

const NL = 10
const CR = 13
/** Characters of a column name a message quotes. */
const SHOWN_NAME_CHARS = 100
export const CSV_NO_ROWS = {
  code: 'no_rows',
  message: 'the file has a header but no rows',
} as const satisfies ValidationIssue

/** How much of the file start is looked at for the first line before giving up on finding it. */
const FIRST_LINE_WINDOW = 64 * 1024

/**
 * A CSV file as a table: waits for the first line to detect the delimiter, drops a UTF-8
 * byte order mark, takes the first record as the header (names must be non-empty and
 * unique), then checks every row has the header's field count and hands good rows to the
 * profiler. Once any issue is found the rest is only checked, not profiled: the result
 * will be a rejection and the profile would be thrown away.
 */
export class CsvTableReader implements FormatReader {
  private head: Buffer = Buffer.alloc(0)
  private splitter: CsvSplitter | null = null
  private header: string[] | null = null
  private rows = 0
  private halted = false
  private delimiter: Delimiter = ','
  /** Where each field of the current line starts and ends; reused from line to line. */
  private starts = new Int32Array(0)
  private ends = new Int32Array(0)

  constructor(
    private readonly issues: IssueCollector,
    private readonly profiler: TableProfiler,
  ) {}

  get stopped(): boolean {
    return this.halted || this.issues.full || (this.splitter?.stopped ?? false)
  }

  push(chunk: Buffer): void {
    if (this.splitter !== null) {
      this.splitter.push(chunk)
      return
    }
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk])
    if (this.head.indexOf(NL) !== -1 || this.head.length >= FIRST_LINE_WINDOW) this.start()
  }

  resumeAt(line: number, offset: number): void {
    if (this.splitter === null) throw new Error('resumeAt needs the header record first')
    this.splitter.resumeAt(line, offset)
  }

  end(size: number, wholeFile = true): void {
    if (this.halted) return
    if (!wholeFile) {
      this.splitter?.end()
      return
    }
    if (this.splitter === null) {
      if (size === 0) {
        this.issues.add({ code: 'empty_file', message: 'the file is empty' })
        return
      }
      this.start()
    }
    this.splitter?.end()
    if (this.halted || this.splitter?.stopped) return
    if (this.header === null) {
      this.issues.add({ code: 'empty_file', message: 'the file has no header line' })
    } else if (this.rows === 0) {
      this.issues.add(CSV_NO_ROWS)
    }
  }

  private start(): void {
    let buf = this.head
    let offset = 0
    if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
      buf = buf.subarray(3)
      offset = 3
    }
    this.head = Buffer.alloc(0)
    const nl = buf.indexOf(NL)
    const firstLine = nl === -1 ? buf : buf.subarray(0, nl)
    const cr = firstLine.indexOf(CR)
    if (nl === -1 && cr !== -1 && cr < firstLine.length - 1) {
      this.halted = true
      this.issues.add({
        code: 'unsupported_line_ending',
        row: 1,
        message: 'lines end with a lone CR (classic Mac OS); use LF or CRLF line endings',
      })
      return
    }
    this.delimiter = detectDelimiter(firstLine)
    this.splitter = new CsvSplitter(this.delimiter, this.sink, offset)
    this.splitter.push(buf)
  }

  private readonly sink: CsvSink = {
    record: (fields, row) => {
      const header = this.header
      if (header === null) {
        this.acceptHeader(fields)
        return
      }
      this.rows++
      if (fields.length !== header.length) this.ragged(row, fields.length, header.length)
      else if (this.issues.count === 0) this.profiler.addTextRow(fields, row)
      if (this.issues.full) this.halt()
    },
    line: (text, start, end, row) => {
      if (this.header === null) {
        this.sink.record(text.slice(start, end).split(this.delimiter), row)
        return
      }
      this.rows++
      const fields = this.locateFields(text, start, end)
      if (fields !== this.header.length) this.ragged(row, fields, this.header.length)
      else if (this.issues.count === 0) this.profiler.addLine(text, this.starts, this.ends, row)
      if (this.issues.full) this.halt()
    },
    issue: (issue) => {
      this.issues.add(issue)
      // Without a readable header line no later line can be judged.
      if (this.issues.full || this.header === null) this.halt()
    },
    columnName: (index) => this.header?.[index],
  }

  /**
   * Fills `starts`/`ends` with the fields of `text[start, end)` (as far as the header has
   * columns) and returns how many fields the line has.
   */
  private locateFields(text: string, start: number, end: number): number {
    const { starts, ends, delimiter } = this
    const columns = starts.length
    let count = 0
    let from = start
    for (;;) {
      const at = text.indexOf(delimiter, from)
      const fieldEnd = at === -1 || at >= end ? end : at
      if (count < columns) {
        starts[count] = from
        ends[count] = fieldEnd
      }
      count++
      if (fieldEnd === end) return count
      from = fieldEnd + 1
    }
  }

  private ragged(row: number, fields: number, columns: number): void {
    this.issues.add({
      code: 'ragged_row',
      row,
      message: `line ${row} has ${fields} field${fields === 1 ? '' : 's'}, the header has ${columns}`,
    })
  }

  private acceptHeader(names: string[]): void {
    this.header = names
    this.starts = new Int32Array(names.length)
    this.ends = new Int32Array(names.length)
    if (names.length > MAX_COLUMNS) {
      this.issues.add({
        code: 'too_many_columns',
        row: 1,
        message: `the header has ${names.length} columns, at most ${MAX_COLUMNS} are supported`,
      })
      this.halt()
      return
    }
    const seen = new Map<string, number>()
    names.forEach((name, i) => {
      if (name.trim() === '') {
        this.issues.add({
          code: 'empty_column_name',
          row: 1,
          message: `header field ${i + 1} has no name`,
        })
        return
      }
      const first = seen.get(name)
      if (first !== undefined) {
        this.issues.add({
          code: 'duplicate_column',
          row: 1,
          column: name,
          // A name may be megabytes long: the message shows its start (the column, all of it).
          message: `column "${truncate(name, SHOWN_NAME_CHARS)}" appears twice in the header (fields ${first + 1} and ${i + 1})`,
        })
      } else {
        seen.set(name, i)
      }
    })
    // Rows of a table without usable column names cannot be checked or profiled.
    if (this.issues.count > 0) this.halt()
    else this.profiler.setColumns(names)
  }

  private halt(): void {
    this.halted = true
    if (this.splitter !== null) this.splitter.stopped = true
  }
}
