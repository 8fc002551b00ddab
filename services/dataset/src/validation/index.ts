export { validateAndProfile, DEFAULT_MAX_ERRORS } from './validate-and-profile.ts'
export { ReadTimeoutError, type ByteSource } from './byte-source.ts'
export { MAX_RECORD_BYTES } from './csv/csv-splitter.ts'
export { MAX_COLUMNS } from './profile/table-profiler.ts'
export type {
  ColumnProfile,
  ColumnSchema,
  ColumnType,
  DatasetProfile,
  HistogramBin,
  IssueCode,
  NumericProfile,
  TimestampProfile,
  TopValue,
  TypeWidening,
  ValidationFailure,
  ValidationFormat,
  ValidationIssue,
  ValidationOptions,
  ValidationResult,
  ValidationSuccess,
} from './validation.types.ts'
