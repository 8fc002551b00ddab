/**
 * A parser for one file format, fed the file's bytes in order. It reports problems to an
 * IssueCollector and good rows to a TableProfiler, both given at construction.
 */
export interface FormatReader {
  push(chunk: Buffer): void
  /**
   * The next byte pushed is the start of line `line`, at file offset `offset`: for a reader
   * given a part of the file that does not start at its beginning (for CSV, after the
   * header record has been pushed).
   */
  resumeAt(line: number, offset: number): void
  /**
   * No more bytes; `size` is the file's length, to tell an empty file apart. With
   * `wholeFile` false the reader only had a part: it flushes, and the file-level verdicts
   * (empty, no rows) are left to whoever joins the parts.
   */
  end(size: number, wholeFile?: boolean): void
  /** True once further bytes cannot change the outcome (fatal error or enough issues). */
  readonly stopped: boolean
}
