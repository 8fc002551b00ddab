import { abortMultipartUpload, deleteObject } from '@argmax/storage'
import { handleCommand, type Actor } from '@argmax/events'
import { versionDecider, type UploadAborted, type VersionState } from '../domain/index.ts'
import { versionSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'

/**
 * Aborts an upload in progress. Decide first, act on S3 after: UploadAborted is recorded
 * before anything in S3 is touched, so an abort that loses to a complete (already claimed, see
 * completeUpload) is refused (409) with S3 untouched, and one that wins has a complete sent at
 * the same time refused before it reaches S3. Then the S3 multipart upload is aborted and any
 * object deleted — again on a retry of an abort already recorded, so a failure of S3 after the
 * decision is repaired by retrying. Endpoints without AbortMultipartUpload keep orphan parts
 * until the bucket's lifecycle rule for incomplete uploads removes them.
 */
export async function abortUpload(
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'now'>,
  actor: Actor,
  version: { versionId: string },
  reason: UploadAborted['data']['reason'],
): Promise<{ position: number; state: VersionState; s3Abort: string }> {
  const { versionId } = version
  const outcome = await handleCommand(
    deps.store,
    versionDecider,
    versionSubject(deps.names, versionId),
    { type: 'AbortUpload', data: { versionId, reason, now: deps.now() } },
    { actor },
  )
  const state = outcome.state
  let s3Abort = 'skipped'
  if (state.status === 'ABORTED') {
    s3Abort = await abortMultipartUpload(deps.s3, {
      bucket: state.bucket,
      key: state.objectKey,
      uploadId: state.s3UploadId,
    })
    await deleteObject(deps.s3, { bucket: state.bucket, key: state.objectKey })
  }
  return { position: outcome.position, state, s3Abort }
}
