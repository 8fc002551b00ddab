import { handleCommand, loadAggregate } from '@argmax/events'
import { deleteObject, isNotFound, openObjectStream } from '@argmax/storage'
import {
  MAX_INLINE_SCHEMA_BYTES,
  sizeMismatchIssue,
  versionDecider,
  versionDocumentKey,
  type ValidationOutcome,
  type VersionState,
} from '../domain/index.ts'
import { versionSubject } from '../streams.ts'
import { ReadTimeoutError, validateAndProfile } from '../validation/index.ts'
import type { DatasetDeps } from './dependencies.ts'
import { toJsonDocument } from './json-documents.ts'

export const VALIDATOR_ACTOR = 'system:validator'

export type ValidateOutcome = 'validated' | 'rejected' | 'skipped'

/**
 * Validates a completed upload: streams the object from S3 through the validator (memory stays
 * flat whatever the size) and records exactly one outcome. Safe to run again for the same
 * version — after a crash, or on a redelivered UploadCompleted — because a version that has
 * an outcome is skipped, the outcome's event id is derived from the version id, and the
 * decider refuses a second outcome.
 */
export async function validateVersion(
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'now'>,
  versionId: string,
  options: {
    maxErrors?: number
    signal?: AbortSignal
    correlationId?: string
    workers?: number | undefined
    /**
     * S3 read timeout: opening the object, or any read of its bytes, that waits longer than
     * this fails with a ReadTimeoutError, so a hung connection ends in a retry, not a stall.
     */
    readTimeoutMs?: number | undefined
    /** Told whenever bytes were read from S3 or a batch of them profiled: its progress. */
    onProgress?: (() => void) | undefined
  } = {},
): Promise<{ outcome: ValidateOutcome; state: VersionState; position: number }> {
  const subject = versionSubject(deps.names, versionId)
  const { state, position } = await loadAggregate(deps.store, versionDecider, subject)
  if (state.status !== 'VALIDATING') return { outcome: 'skipped', state, position }
  const ref = { bucket: state.bucket, key: state.objectKey }
  let result: ValidationOutcome
  try {
    const { body, contentLength } = await openWithTimeout(
      deps,
      ref,
      options.signal,
      options.readTimeoutMs,
    )
    if (contentLength !== undefined && contentLength !== state.size) {
      // The object's length alone settles it: no need to read (maybe gigabytes of) its bytes.
      body.destroy()
      await deleteObject(deps.s3, ref)
      const issue = sizeMismatchIssue(contentLength, state.size)
      const outcome = { ok: false as const, errors: [issue], checksumMismatch: true }
      const rejection = { ...outcome, objectDeleted: true }
      return report(await recordOutcome(deps, versionId, rejection, options.correlationId))
    }
    const checked = await validateAndProfile(body, {
      format: state.format,
      declaredSize: state.size,
      declaredSha256: state.sha256,
      maxErrors: options.maxErrors ?? 20,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      readTimeoutMs: options.readTimeoutMs,
      onProgress: options.onProgress,
    })
    if (checked.ok) {
      // The profile always, and the schema when large, are stored beside the file before the
      // event that references them: the event stays small whatever the file's width.
      const documents = { bucket: state.bucket }
      const [schema, profile] = await Promise.all([
        toJsonDocument(deps.s3, checked.schema, {
          ...documents,
          key: versionDocumentKey(state.datasetId, versionId, 'schema'),
          maxInlineBytes: MAX_INLINE_SCHEMA_BYTES,
        }),
        toJsonDocument(deps.s3, checked.profile, {
          ...documents,
          key: versionDocumentKey(state.datasetId, versionId, 'profile'),
          maxInlineBytes: 0,
        }),
      ])
      result = {
        ok: true,
        rowCount: checked.rowCount,
        size: checked.size,
        sha256: checked.sha256,
        columnCount: checked.schema.length,
        schema,
        profile,
      }
    } else {
      // Bytes that are not what the client declared are not kept.
      if (checked.checksumMismatch) await deleteObject(deps.s3, ref)
      result = {
        ok: false,
        errors: checked.errors.map((issue) => ({
          ...(issue.row !== undefined ? { row: issue.row } : {}),
          ...(issue.column !== undefined ? { column: issue.column } : {}),
          code: issue.code,
          message: issue.message,
        })),
        checksumMismatch: checked.checksumMismatch,
        objectDeleted: checked.checksumMismatch,
      }
    }
  } catch (error) {
    if (!isNotFound(error)) throw error
    result = {
      ok: false,
      errors: [
        { code: 'object_missing', message: `the uploaded file ${ref.key} is not in storage` },
      ],
      checksumMismatch: false,
      objectDeleted: false,
    }
  }
  return report(await recordOutcome(deps, versionId, result, options.correlationId))

  function report(recorded: Awaited<ReturnType<typeof recordOutcome>>) {
    const validated = recorded.state.status === 'VALIDATED'
    const outcome: ValidateOutcome =
      recorded.written === 0 ? 'skipped' : validated ? 'validated' : 'rejected'
    return { outcome, state: recorded.state, position: recorded.position }
  }
}

/**
 * GetObject until its headers arrive, bounded by `readTimeoutMs`; the body's reads are bounded
 * by validateAndProfile. The timer is disarmed once the object is open: aborting the request
 * later would cut the body off in the middle of a long, healthy read.
 */
async function openWithTimeout(
  deps: Pick<DatasetDeps, 's3'>,
  ref: { bucket: string; key: string },
  signal: AbortSignal | undefined,
  readTimeoutMs: number | undefined,
) {
  const controller = new AbortController()
  const forward = () => controller.abort(signal?.reason)
  signal?.addEventListener('abort', forward, { once: true })
  if (signal?.aborted) forward()
  const timer = readTimeoutMs
    ? setTimeout(() => controller.abort(new ReadTimeoutError(readTimeoutMs)), readTimeoutMs)
    : undefined
  try {
    return await openObjectStream(deps.s3, { ...ref, abortSignal: controller.signal })
  } catch (error) {
    // The SDK reports an abort as its own AbortError; say why it was aborted.
    throw controller.signal.aborted ? controller.signal.reason : error
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', forward)
  }
}

/**
 * The validator gave up on a version (its UploadCompleted was parked after failing every
 * delivery): the version ends REJECTED with `internal_error` rather than VALIDATING forever.
 * Nothing happens to a version that has an outcome or is no longer being validated.
 */
export async function rejectAfterValidatorGaveUp(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'now'>,
  versionId: string,
  parked: { id: string; deliveries: number },
  correlationId?: string,
): Promise<'rejected' | 'skipped'> {
  const subject = versionSubject(deps.names, versionId)
  const { state } = await loadAggregate(deps.store, versionDecider, subject)
  if (state.status !== 'VALIDATING') return 'skipped'
  const message =
    `validation failed on every one of ${parked.deliveries} attempts and was given up; ` +
    `operators see it as parked message ${parked.id}. Upload the file again.`
  const outcome = await recordOutcome(
    deps,
    versionId,
    {
      ok: false,
      errors: [{ code: 'internal_error', message }],
      checksumMismatch: false,
      objectDeleted: false,
    },
    correlationId,
  )
  return outcome.written === 0 ? 'skipped' : 'rejected'
}

/** The validator's one write: the outcome on the version, decided against its current state. */
function recordOutcome(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'now'>,
  versionId: string,
  outcome: ValidationOutcome,
  correlationId: string | undefined,
) {
  return handleCommand(
    deps.store,
    versionDecider,
    versionSubject(deps.names, versionId),
    { type: 'RecordValidation', data: { versionId, outcome, now: deps.now() } },
    { actor: VALIDATOR_ACTOR, ...(correlationId ? { correlationId } : {}) },
  )
}
