import { MAX_RECORD_BYTES } from '../csv/csv-splitter.ts'
import { CsvTableReader } from '../csv/csv-table-reader.ts'
import type { FormatReader } from '../format-reader.ts'
import { IssueCollector } from '../issue-collector.ts'
import { JsonlReader } from '../jsonl/jsonl-reader.ts'
import { TableProfiler } from '../profile/table-profiler.ts'
import type { ValidationFormat, ValidationIssue } from '../validation.types.ts'

const PIECE_BYTES = 64 * 1024

/** One batch to check and profile: plain data, so it can be posted to a worker thread. */
export interface BatchTask {
  format: ValidationFormat
  bytes: Uint8Array
  firstLine: number
  offset: number
  /** For CSV batches after the first: the header record, read before the batch's rows. */
  header: Uint8Array | null
  maxErrors: number
  /** True when the batch is the whole file; then `size` is its length. */
  wholeFile: boolean
  size: number
}

export interface BatchResult {
  /** The batch's first issues, at most `maxErrors`, in file order. */
  issues: ValidationIssue[]
  /** True when the reader stopped early: nothing after this batch may be judged. */
  stopped: boolean
  profile: TableProfiler
}

function readerFor(
  format: ValidationFormat,
  issues: IssueCollector,
  profiler: TableProfiler,
): FormatReader {
  switch (format) {
    case 'csv':
      return new CsvTableReader(issues, profiler)
    case 'jsonl':
      return new JsonlReader(issues, profiler)
    default: {
      const never: never = format
      throw new TypeError(`unknown format ${String(never)}`)
    }
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Checks and profiles one batch with a fresh reader and profiler. Pure: the same task gives
 * the same result, on the main thread or on a worker.
 */
export function profileBatch(task: BatchTask): BatchResult {
  const issues = new IssueCollector(task.maxErrors)
  const profile = new TableProfiler()
  const reader = readerFor(task.format, issues, profile)
  if (task.header !== null) reader.push(asBuffer(task.header))
  if (task.firstLine !== 1 && !reader.stopped) reader.resumeAt(task.firstLine, task.offset)
  // A batch ends at a record boundary, so a reader given it whole buffers nothing. Only a
  // batch that may hold a record over the limit is fed in stream-sized pieces, as a file
  // arrives: a reader only measures the record it is buffering.
  const bytes = asBuffer(task.bytes)
  const piece = bytes.length > MAX_RECORD_BYTES ? PIECE_BYTES : bytes.length
  for (let at = 0; at < bytes.length && !reader.stopped; at += piece) {
    reader.push(bytes.subarray(at, at + piece))
  }
  reader.end(task.size, task.wholeFile)
  return { issues: issues.issues, stopped: reader.stopped, profile }
}
