/**
 * The public shapes of the streaming validator. They are plain JSON (no Dates, no Maps, no
 * undefined inside arrays) so the worker can put them into `VersionValidated` /
 * `VersionRejected` as they are, and the same bytes always serialise to the same JSON.
 */

export type ValidationFormat = 'csv' | 'jsonl'

/** The types a column can be inferred as, from narrowest to widest. */
export type ColumnType = 'integer' | 'float' | 'boolean' | 'timestamp' | 'string'

export type IssueCode =
  | 'size_mismatch'
  | 'sha256_mismatch'
  | 'empty_file'
  | 'no_rows'
  | 'empty_column_name'
  | 'duplicate_column'
  | 'too_many_columns'
  | 'ragged_row'
  | 'invalid_quoting'
  | 'invalid_utf8'
  | 'nul_character'
  | 'lone_surrogate'
  | 'unsupported_line_ending'
  | 'record_too_large'
  | 'invalid_json'
  | 'not_an_object'

export interface ValidationIssue {
  /**
   * 1-based line of the file where the offending record starts (the CSV header is line 1;
   * in JSON Lines every line is a record). Absent for whole-file problems (checksum, size).
   */
  row?: number
  /** The column's name from the header (or JSON key), when the problem is in one column. */
  column?: string
  code: IssueCode
  message: string
}

/** Why a column ended up wider than its first values suggested. */
export interface TypeWidening {
  from: ColumnType
  to: ColumnType
  /** Line of the first value that forced the widening. */
  row: number
  /** That value, cut to 64 characters. */
  value: string
}

export interface ColumnSchema {
  name: string
  type: ColumnType
  /** True when at least one row has no value (empty CSV field, JSON null or missing key). */
  nullable: boolean
  /** In the order they happened; empty when every value fitted the first one's type. */
  widenings: TypeWidening[]
}

export interface HistogramBin {
  /** Inclusive lower edge. */
  lower: number
  /** Exclusive upper edge, except for the last bin, which includes `max`. */
  upper: number
  count: number
}

export interface NumericProfile {
  min: number
  max: number
  mean: number
  /** Sample standard deviation (n − 1, as pandas' `describe`); null with fewer than 2 values. */
  std: number | null
  /** Exact counts in equal-width bins; see histogram.ts for how the edges are chosen. */
  histogram: HistogramBin[]
}

export interface TimestampProfile {
  /** ISO-8601 in UTC; values without an offset are read as UTC. */
  min: string
  max: string
}

export interface TopValue {
  value: string
  /** A lower bound of the true count, exact when the column has few distinct values. */
  count: number
}

export interface ColumnProfile {
  name: string
  type: ColumnType
  /** Rows with a value. */
  count: number
  nulls: number
  /** HyperLogLog estimate of the number of distinct non-null values (±1–2 %). */
  distinct: number
  /** Most frequent non-null values, most frequent first, ties by value. */
  topValues: TopValue[]
  /** For integer and float columns. */
  numeric?: NumericProfile
  /** For timestamp columns. */
  timestamp?: TimestampProfile
}

export interface DatasetProfile {
  rowCount: number
  columns: ColumnProfile[]
}

export interface ValidationOptions {
  format: ValidationFormat
  /** Bytes the client said it would upload. */
  declaredSize: number
  /** Hex SHA-256 the client declared (either case). */
  declaredSha256: string
  /** Stop collecting after this many issues (the checksum issues included). */
  maxErrors?: number
  /** Aborting rejects the promise with the signal's reason and stops reading the source. */
  signal?: AbortSignal
  /**
   * Worker threads that profile batches when the file has more than one (default: one per
   * core; 0 profiles every batch on the calling thread). The result does not depend on it.
   */
  workers?: number
  /** About how many bytes a batch holds (default 4 MiB); cuts fall on record boundaries. */
  batchBytes?: number
  /** Fail with a ReadTimeoutError when the source gives nothing for this long (unset: wait). */
  readTimeoutMs?: number | undefined
  /**
   * Told whenever the validation advanced: a chunk was read from the source, or a batch of
   * what was read was profiled (the tail of a file is profiled after its last byte arrived).
   * Neither happens while a read hangs, so a caller can tell working from stuck.
   */
  onProgress?: (() => void) | undefined
}

export interface ValidationSuccess {
  ok: true
  size: number
  sha256: string
  rowCount: number
  schema: ColumnSchema[]
  profile: DatasetProfile
}

export interface ValidationFailure {
  ok: false
  size: number
  sha256: string
  /** The first `maxErrors` problems: checksum and size first, then in file order. */
  errors: ValidationIssue[]
  /** The bytes are not the ones the client declared (size or SHA-256 differ). */
  checksumMismatch: boolean
}

export type ValidationResult = ValidationSuccess | ValidationFailure
