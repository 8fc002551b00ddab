/**
 * A parser for one file format, fed the file's bytes in order. It reports problems to an
 * IssueCollector and good rows to a TableProfiler, both given at construction.
 */
export interface FormatReader {
  push(chunk: Buffer): void
  /** No more bytes; `size` is the file's length, to tell an empty file apart. */
  end(size: number): void
  /** True once further bytes cannot change the outcome (fatal error or enough issues). */
  readonly stopped: boolean
}
