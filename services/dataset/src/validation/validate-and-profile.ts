import { createHash } from 'node:crypto'
import { bufferChunks, type ByteSource } from './byte-source.ts'
import { CsvTableReader } from './csv/csv-table-reader.ts'
import type { FormatReader } from './format-reader.ts'
import { IssueCollector } from './issue-collector.ts'
import { JsonlReader } from './jsonl/jsonl-reader.ts'
import { TableProfiler } from './profile/table-profiler.ts'
import type { ValidationIssue, ValidationOptions, ValidationResult } from './validation.types.ts'

export const DEFAULT_MAX_ERRORS = 20

function readerFor(
  format: ValidationOptions['format'],
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

function checksumIssues(
  size: number,
  sha256: string,
  declaredSize: number,
  declaredSha256: string,
): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  if (size !== declaredSize) {
    const hint = size < declaredSize ? ' — the upload is truncated' : ''
    issues.push({
      code: 'size_mismatch',
      message: `the file has ${size} bytes but ${declaredSize} were declared${hint}`,
    })
  }
  if (sha256 !== declaredSha256.toLowerCase()) {
    issues.push({
      code: 'sha256_mismatch',
      message: `the file's SHA-256 is ${sha256} but ${declaredSha256} was declared`,
    })
  }
  return issues
}

/**
 * Validates and profiles a dataset file in one streaming pass: every chunk is hashed and
 * counted, then parsed, typed and profiled, so memory stays flat whatever the file size (the
 * largest buffer is one record, at most 16 MiB). When the parser has stopped (a fatal error
 * or `maxErrors` issues) the remaining bytes are still hashed, so the size and checksum
 * verdicts are always complete.
 *
 * Pure apart from reading `source`: no clock, no randomness, so the same bytes give the same
 * result, equal in JSON byte for byte. Aborting `signal` rejects with its reason.
 */
export async function validateAndProfile(
  source: ByteSource,
  options: ValidationOptions,
): Promise<ValidationResult> {
  const { format, declaredSize, declaredSha256, signal } = options
  const maxErrors = Math.max(1, options.maxErrors ?? DEFAULT_MAX_ERRORS)
  const issues = new IssueCollector(maxErrors)
  const profiler = new TableProfiler()
  const reader = readerFor(format, issues, profiler)
  const hash = createHash('sha256')
  let size = 0

  for await (const chunk of bufferChunks(source, signal)) {
    hash.update(chunk)
    size += chunk.length
    if (!reader.stopped) reader.push(chunk)
  }
  reader.end(size)

  const sha256 = hash.digest('hex')
  const mismatches = checksumIssues(size, sha256, declaredSize, declaredSha256)
  const errors = [...mismatches, ...issues.issues].slice(0, maxErrors)
  if (errors.length > 0) {
    return { ok: false, size, sha256, errors, checksumMismatch: mismatches.length > 0 }
  }
  const { schema, profile } = profiler.result()
  return { ok: true, size, sha256, rowCount: profile.rowCount, schema, profile }
}
