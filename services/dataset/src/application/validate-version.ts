import { handleCommand, loadAggregate } from '@argmax/events'
import { deleteObject, isNotFound, openObjectStream } from '@argmax/storage'
import {
  versionDecider,
  type Json,
  type ValidationOutcome,
  type VersionState,
} from '../domain/index.ts'
import { versionSubject } from '../streams.ts'
import { validateAndProfile } from '../validation/index.ts'
import type { DatasetDeps } from './dependencies.ts'

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
  } = {},
): Promise<{ outcome: ValidateOutcome; state: VersionState; position: number }> {
  const subject = versionSubject(deps.names, versionId)
  const { state, position } = await loadAggregate(deps.store, versionDecider, subject)
  if (state.status !== 'VALIDATING') return { outcome: 'skipped', state, position }
  const ref = { bucket: state.bucket, key: state.objectKey }
  let result: ValidationOutcome
  try {
    const { body } = await openObjectStream(deps.s3, {
      ...ref,
      ...(options.signal ? { abortSignal: options.signal } : {}),
    })
    const checked = await validateAndProfile(body, {
      format: state.format,
      declaredSize: state.size,
      declaredSha256: state.sha256,
      maxErrors: options.maxErrors ?? 20,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })
    if (checked.ok) {
      result = {
        ok: true,
        rowCount: checked.rowCount,
        size: checked.size,
        sha256: checked.sha256,
        schema: checked.schema as unknown as Json,
        profile: checked.profile as unknown as Json,
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
  const outcome = await handleCommand(
    deps.store,
    versionDecider,
    subject,
    { type: 'RecordValidation', data: { versionId, outcome: result, now: deps.now() } },
    {
      actor: VALIDATOR_ACTOR,
      ...(options.correlationId ? { correlationId: options.correlationId } : {}),
    },
  )
  return {
    outcome: outcome.written === 0 ? 'skipped' : result.ok ? 'validated' : 'rejected',
    state: outcome.state,
    position: outcome.position,
  }
}
