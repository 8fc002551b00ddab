import { isUtf8 } from 'node:buffer'
import type { FormatReader } from '../format-reader.ts'
import type { IssueCollector } from '../issue-collector.ts'
import { MAX_COLUMNS, type TableProfiler } from '../profile/table-profiler.ts'
import { CarryOver } from '../carry-over.ts'
import { firstInvalidUtf8Offset } from '../utf8.ts'
import { MAX_RECORD_BYTES } from '../csv/csv-splitter.ts'
import type { ValidationIssue } from '../validation.types.ts'

const NL = 10
const CR = 13
const MAX_MESSAGE_CHARS = 200

export const JSONL_NO_ROWS = {
  code: 'no_rows',
  message: 'the file has no rows',
} as const satisfies ValidationIssue

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i]
    if (b !== 32 && b !== 9) return false
  }
  return true
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return `a ${typeof v}`
}

/**
 * JSON Lines: one JSON object per line (LF or CRLF; blank lines are skipped). Each line is
 * decoded and parsed on its own, so a bad line is reported with its number and the reader
 * carries on with the next. UTF-8 is checked natively over each stretch of complete lines,
 * and line by line only when a stretch fails.
 */
export class JsonlReader implements FormatReader {
  private readonly carry = new CarryOver()
  private line = 1
  private offset = 0
  private rows = 0
  private halted = false

  constructor(
    private readonly issues: IssueCollector,
    private readonly profiler: TableProfiler,
  ) {}

  get stopped(): boolean {
    return this.halted || this.issues.full
  }

  push(chunk: Buffer): void {
    if (this.stopped) return
    if (this.carry.length > 0 && chunk.indexOf(NL) === -1) {
      // No line can end in a chunk without a newline: keep it aside, uncopied.
      this.carry.add(chunk)
      if (this.carry.length > MAX_RECORD_BYTES) this.refuseLongLine()
      return
    }
    const buf = this.carry.length === 0 ? chunk : this.carry.takeWith(chunk)
    const consumed = this.consume(buf, false)
    this.offset += consumed
    if (this.stopped || consumed >= buf.length) return
    this.carry.add(buf.subarray(consumed))
    if (this.carry.length > MAX_RECORD_BYTES) this.refuseLongLine()
  }

  resumeAt(line: number, offset: number): void {
    if (this.carry.length > 0) throw new Error('resumeAt inside a line')
    this.line = line
    this.offset = offset
  }

  end(size: number, wholeFile = true): void {
    if (this.stopped) return
    if (this.carry.length > 0) this.consume(this.carry.takeWith(), true)
    if (this.stopped || this.issues.count > 0 || !wholeFile) return
    if (size === 0) this.issues.add({ code: 'empty_file', message: 'the file is empty' })
    else if (this.rows === 0) this.issues.add(JSONL_NO_ROWS)
  }

  private refuseLongLine(): void {
    this.halted = true
    this.carry.takeWith()
    this.issues.add({
      code: 'record_too_large',
      row: this.line,
      message: `line ${this.line} is longer than ${MAX_RECORD_BYTES} bytes`,
    })
  }

  private consume(buf: Buffer, final: boolean): number {
    const len = buf.length
    const checkedEnd = final ? len : buf.lastIndexOf(NL) + 1
    const utf8Suspect = checkedEnd > 0 && !isUtf8(buf.subarray(0, checkedEnd))
    let pos = 0
    while (pos < len && !this.stopped) {
      let nl = buf.indexOf(NL, pos)
      if (nl === -1) {
        if (!final) break
        nl = len
      }
      let end = nl
      if (end > pos && buf[end - 1] === CR) end--
      if (!isBlank(buf, pos, end)) {
        if (utf8Suspect && !isUtf8(buf.subarray(pos, end))) this.invalidUtf8(buf, pos, end)
        else this.parseLine(buf.toString('utf8', pos, end))
      }
      this.line++
      pos = nl + 1
    }
    return Math.min(pos, len)
  }

  private parseLine(line: string): void {
    const row = this.line
    // A byte order mark is not JSON whitespace; editors still put one at the start.
    const text = row === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line
    this.rows++
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      const reason = (err as Error).message.slice(0, MAX_MESSAGE_CHARS)
      this.issues.add({
        code: 'invalid_json',
        row,
        message: `line ${row} is not valid JSON: ${reason}`,
      })
      return
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.issues.add({
        code: 'not_an_object',
        row,
        message: `line ${row} is ${describe(value)}, each line must be a JSON object`,
      })
      return
    }
    // JSON Lines are valid UTF-8, so U+0000 and lone surrogates come only as escapes
    // (`\u0000`, `\ud800`): the text tells whether to look at the values.
    if (MAY_HOLD_UNSTORABLE.test(text)) {
      const found = unstorableTextIn(value as Record<string, unknown>)
      if (found !== undefined) {
        const what =
          found.code === 'nul_character' ? 'the character U+0000 (NUL)' : 'a lone surrogate'
        this.issues.add({
          code: found.code,
          row,
          ...(found.inKey ? {} : { column: found.key }),
          message: `line ${row} holds ${what} in ${found.inKey ? 'a key' : `the value of "${found.key}"`}, which is not text`,
        })
        return
      }
    }
    if (this.issues.count > 0) return
    const refused = this.profiler.addJsonRow(value as Record<string, unknown>, row)
    if (refused !== undefined) {
      this.halted = true
      this.issues.add({
        code: 'too_many_columns',
        row,
        column: refused.slice(0, MAX_MESSAGE_CHARS),
        message: `line ${row} brings the number of distinct keys over ${MAX_COLUMNS}`,
      })
    }
  }

  private invalidUtf8(buf: Buffer, start: number, end: number): void {
    this.rows++
    const at = Math.max(0, firstInvalidUtf8Offset(buf.subarray(start, end)))
    const byte = buf[start + at]!.toString(16).padStart(2, '0')
    this.issues.add({
      code: 'invalid_utf8',
      row: this.line,
      message: `line ${this.line} is not valid UTF-8: byte 0x${byte} at file offset ${this.offset + start + at}`,
    })
  }
}

const MAY_HOLD_UNSTORABLE = /\\u(0000|[dD][89a-fA-F])/

/**
 * The first top-level key or string value that PostgreSQL could not store in the version's
 * schema or profile (nested values are profiled as their JSON text, where such characters are
 * escaped).
 */
function unstorableTextIn(
  record: Record<string, unknown>,
): { key: string; inKey: boolean; code: 'nul_character' | 'lone_surrogate' } | undefined {
  for (const key in record) {
    const value = record[key]
    for (const [text, inKey] of [
      [key, true],
      [value, false],
    ] as const) {
      if (typeof text !== 'string') continue
      if (text.includes('\u0000')) return { key, inKey, code: 'nul_character' }
      if (!text.isWellFormed()) return { key, inKey, code: 'lone_surrogate' }
    }
  }
  return undefined
}
