import type { Principal } from '@argmax/auth'
import { ValidationError } from '@argmax/errors'
import { completeMultipartUpload, httpStatusOfS3Error, objectExists } from '@argmax/storage'
import { handleCommand } from '@argmax/events'
import {
  decideVersion,
  versionDecider,
  type UploadedPart,
  type VersionState,
} from '../domain/index.ts'
import { versionSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'
import { assertDatasetAcceptsUploads } from './upload-parts.ts'
import { accessibleVersion } from './version-access.ts'

/**
 * Completes the S3 upload and hands the version to the validator (UploadCompleted). The part
 * list is checked against the recorded parts before S3 sees it, and a retry after S3 already
 * assembled the object skips straight to recording, so a lost reply is safe to retry.
 */
export async function completeUpload(
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'now'>,
  principal: Principal,
  datasetId: string,
  versionId: string,
  parts: UploadedPart[],
): Promise<{ position: number; state: VersionState }> {
  const { version } = await accessibleVersion(deps, principal, datasetId, versionId, 'write')
  const command = {
    type: 'CompleteUpload' as const,
    data: { versionId, parts, now: deps.now() },
  }
  if (version.status === 'UPLOADING') {
    await assertDatasetAcceptsUploads(deps, datasetId)
    // Throws (400/409) on a bad part list before S3 is touched.
    decideVersion(command, version)
    const ref = { bucket: version.bucket, key: version.objectKey }
    if (!(await objectExists(deps.s3, ref))) {
      try {
        await completeMultipartUpload(deps.s3, { ...ref, uploadId: version.s3UploadId, parts })
      } catch (error) {
        // S3 refusing the list (InvalidPart, EntityTooSmall…) is the client's to fix.
        if (httpStatusOfS3Error(error) !== 400) throw error
        throw ValidationError.field('parts', `S3 refused to complete: ${(error as Error).message}`)
      }
    }
  }
  const outcome = await handleCommand(
    deps.store,
    versionDecider,
    versionSubject(deps.names, versionId),
    command,
    { actor: principal },
  )
  return { position: outcome.position, state: outcome.state }
}
