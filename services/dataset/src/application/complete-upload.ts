import type { Principal } from '@argmax/auth'
import { IllegalStateError, PayloadTooLargeError, ValidationError } from '@argmax/errors'
import { handleCommand, type Actor } from '@argmax/events'
import {
  completeMultipartUpload,
  deleteObject,
  httpStatusOfS3Error,
  isNotFound,
  objectSize,
} from '@argmax/storage'
import {
  recordedParts,
  versionDecider,
  type UploadedPart,
  type VersionState,
} from '../domain/index.ts'
import { versionSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'
import { assertDatasetAcceptsUploads } from './upload-parts.ts'
import { accessibleVersion, assertVersionAccess, type ExistingVersion } from './version-access.ts'

type CompletionDeps = Pick<DatasetDeps, 'store' | 'names' | 's3' | 'now'>

/**
 * Completes an upload and hands the version to the validator. Decide first, act on S3 after:
 * the claim (UploadCompletionStarted) is recorded before S3 assembles anything, so an abort
 * sent at the same time either lands before it — and this complete is refused without touching
 * S3 — or after it, and is refused itself. A retry (lost reply, S3 or NATS failure) finds its
 * claim and carries on; S3's assembly is skipped when the object is already there.
 */
export async function completeUpload(
  deps: CompletionDeps,
  principal: Principal,
  datasetId: string,
  versionId: string,
  parts: UploadedPart[],
): Promise<{ position: number; state: VersionState }> {
  const { version } = await accessibleVersion(deps, principal, datasetId, versionId, 'write')
  if (version.status === 'UPLOADING') await assertDatasetAcceptsUploads(deps, datasetId)
  // Throws (400/409) on a bad part list, or when an abort got there first.
  const claimed = await handleCommand(
    deps.store,
    versionDecider,
    versionSubject(deps.names, versionId),
    { type: 'CompleteUpload', data: { versionId, parts, now: deps.now() } },
    {
      actor: principal,
      guard: (state) => assertVersionAccess(state, principal, datasetId, versionId, 'write'),
    },
  )
  const state = claimed.state as ExistingVersion
  if (state.status === 'COMPLETING') return finishCompletion(deps, principal, state)
  // A retry after the version was rejected for its size: make sure the file is gone.
  if (state.status === 'REJECTED' && state.objectDeleted) {
    await deleteObject(deps.s3, { bucket: state.bucket, key: state.objectKey })
  }
  return { position: claimed.position, state }
}

/**
 * The S3 half of a claimed completion: assemble the recorded parts (unless the object is there
 * already), measure the object and record UploadCompleted — together with the rejection when
 * it holds more bytes than declared; the object is then deleted and the answer is 413. Also
 * what the housekeeping job runs for a completion a client left half-done.
 */
export async function finishCompletion(
  deps: CompletionDeps,
  actor: Actor,
  version: ExistingVersion,
): Promise<{ position: number; state: VersionState }> {
  const { versionId } = version
  if (version.status !== 'COMPLETING') {
    throw new Error(`finishCompletion: upload ${versionId} is ${version.status}`)
  }
  const subject = versionSubject(deps.names, versionId)
  const ref = { bucket: version.bucket, key: version.objectKey }
  let storedSize = await objectSize(deps.s3, ref)
  if (storedSize === undefined) {
    try {
      await completeMultipartUpload(deps.s3, {
        ...ref,
        uploadId: version.s3UploadId,
        parts: recordedParts(version),
      })
    } catch (error) {
      if (httpStatusOfS3Error(error) === 400) {
        // S3 refusing the parts (InvalidPart, EntityTooSmall…) is the client's to fix: the
        // upload is open again for it.
        const reason = `S3 refused to complete: ${(error as Error).message}`
        await handleCommand(
          deps.store,
          versionDecider,
          subject,
          { type: 'RefuseCompletion', data: { versionId, reason, now: deps.now() } },
          { actor },
        )
        throw ValidationError.field('parts', reason)
      }
      // NoSuchUpload: a concurrent retry assembled it first (looked up below), or S3 dropped it.
      if (!isNotFound(error)) throw error
    }
    storedSize = await objectSize(deps.s3, ref)
    if (storedSize === undefined) return uploadGone(deps, actor, version)
  }
  const outcome = await handleCommand(
    deps.store,
    versionDecider,
    subject,
    { type: 'RecordCompletion', data: { versionId, storedSize, now: deps.now() } },
    { actor },
  )
  if (storedSize > version.size) {
    // Recorded as rejected first, deleted after: a crash in between leaves a REJECTED version
    // whose retried complete deletes the file.
    await deleteObject(deps.s3, ref)
    throw new PayloadTooLargeError('parts', version.size, storedSize)
  }
  return { position: outcome.position, state: outcome.state }
}

/** S3 has neither the multipart upload nor an object (its lifecycle rule expired it). */
async function uploadGone(
  deps: CompletionDeps,
  actor: Actor,
  version: ExistingVersion,
): Promise<never> {
  await handleCommand(
    deps.store,
    versionDecider,
    versionSubject(deps.names, version.versionId),
    {
      type: 'AbortUpload',
      data: { versionId: version.versionId, reason: 'expired', now: deps.now() },
    },
    { actor },
  )
  throw new IllegalStateError(
    `upload ${version.versionId} can no longer be completed: S3 no longer holds its parts ` +
      '(it expired); upload the file again',
  )
}
