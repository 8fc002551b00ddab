import { createHash } from 'node:crypto'
import { BatchCutter } from './batches/batch-cutter.ts'
import { BatchProfiling, defaultWorkers } from './batches/batch-profiling.ts'
import { bufferChunks, type ByteSource } from './byte-source.ts'
import type { ValidationIssue, ValidationOptions, ValidationResult } from './validation.types.ts'

export const DEFAULT_MAX_ERRORS = 20
/** Large enough that a batch's set-up and merge cost nothing next to its parsing. */
export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024

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
 * counted on this thread, and cut into batches of whole records that are parsed, typed and
 * profiled — on worker threads once the file has more than one — and joined in file order.
 * Memory stays flat whatever the file size: a few batches in flight, and the largest record
 * at most 16 MiB. When the profile can no longer change the outcome (a fatal error, or
 * `maxErrors` issues) the remaining bytes are still hashed, so the size and checksum verdicts
 * are always complete.
 *
 * Pure apart from reading `source` and using worker threads: no clock, no randomness, so the
 * same bytes give the same result, equal in JSON byte for byte. Aborting `signal` rejects
 * with its reason.
 */
export async function validateAndProfile(
  source: ByteSource,
  options: ValidationOptions,
): Promise<ValidationResult> {
  const { format, declaredSize, declaredSha256, signal } = options
  const maxErrors = Math.max(1, options.maxErrors ?? DEFAULT_MAX_ERRORS)
  const cutter = new BatchCutter(format === 'csv', options.batchBytes ?? DEFAULT_BATCH_BYTES)
  const progress = options.onProgress ?? (() => undefined)
  const batches = new BatchProfiling(
    format,
    maxErrors,
    options.workers ?? defaultWorkers(),
    progress,
  )
  const hash = createHash('sha256')
  let size = 0
  let profiled
  try {
    const watch = { idleTimeoutMs: options.readTimeoutMs, onBytes: progress }
    for await (const chunk of bufferChunks(source, signal, watch)) {
      hash.update(chunk)
      size += chunk.length
      if (batches.stopped) continue
      for (const batch of cutter.push(chunk)) await batches.add(batch)
    }
    for (const batch of cutter.end()) await batches.add(batch)
    profiled = await batches.finish(size)
  } finally {
    await batches.close()
  }

  const sha256 = hash.digest('hex')
  const mismatches = checksumIssues(size, sha256, declaredSize, declaredSha256)
  const errors = [...mismatches, ...profiled.issues].slice(0, maxErrors)
  if (errors.length > 0) {
    return { ok: false, size, sha256, errors, checksumMismatch: mismatches.length > 0 }
  }
  const { schema, profile } = profiled.profile.result()
  return { ok: true, size, sha256, rowCount: profile.rowCount, schema, profile }
}
