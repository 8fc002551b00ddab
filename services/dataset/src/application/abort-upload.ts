import { abortMultipartUpload, deleteObject } from '@argmax/storage'
import { handleCommand, type Actor } from '@argmax/events'
import { versionDecider, type UploadAborted, type VersionState } from '../domain/index.ts'
import { versionSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'
import type { ExistingVersion } from './version-access.ts'

/**
 * Aborts an upload in progress: the S3 multipart upload is aborted where the endpoint supports
 * it, any object already assembled is deleted, then UploadAborted is recorded. Endpoints
 * without AbortMultipartUpload (s3rver) keep orphan parts until the bucket's lifecycle rule for
 * incomplete uploads removes them.
 */
export async function abortUpload(
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'now'>,
  actor: Actor,
  version: ExistingVersion,
  reason: UploadAborted['data']['reason'],
): Promise<{ position: number; state: VersionState; s3Abort: string }> {
  let s3Abort = 'skipped'
  if (version.status === 'UPLOADING') {
    s3Abort = await abortMultipartUpload(deps.s3, {
      bucket: version.bucket,
      key: version.objectKey,
      uploadId: version.s3UploadId,
    })
    await deleteObject(deps.s3, { bucket: version.bucket, key: version.objectKey })
  }
  const outcome = await handleCommand(
    deps.store,
    versionDecider,
    versionSubject(deps.names, version.versionId),
    { type: 'AbortUpload', data: { versionId: version.versionId, reason, now: deps.now() } },
    { actor },
  )
  return { position: outcome.position, state: outcome.state, s3Abort }
}
