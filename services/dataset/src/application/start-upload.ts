import type { Principal } from '@argmax/auth'
import { handleCommand } from '@argmax/events'
import { abortMultipartUpload, startMultipartUpload } from '@argmax/storage'
import {
  assertAcceptsUploads,
  contentTypeOf,
  planUpload,
  versionDecider,
  type UploadRequest,
  type VersionState,
} from '../domain/index.ts'
import { versionSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'
import { changeableDataset } from './update-dataset.ts'

/**
 * Starts a new version's upload. Everything that can be refused is refused first — who may
 * write, the dataset's state (409 when deleted), the declared size (413 above 2 GiB), the part
 * plan — so a refused request leaves neither an S3 upload nor an event behind.
 */
export async function startUpload(
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'bucket' | 'now' | 'newId'>,
  principal: Principal,
  datasetId: string,
  request: UploadRequest,
): Promise<{ versionId: string; position: number; state: VersionState }> {
  const dataset = await changeableDataset(deps, principal, datasetId)
  assertAcceptsUploads(dataset, datasetId)
  const versionId = deps.newId()
  const plan = planUpload(request, { datasetId, versionId })
  const s3UploadId = await startMultipartUpload(deps.s3, {
    bucket: deps.bucket,
    key: plan.objectKey,
    contentType: contentTypeOf(plan.format),
  })
  try {
    const outcome = await handleCommand(
      deps.store,
      versionDecider,
      versionSubject(deps.names, versionId),
      {
        type: 'StartUpload',
        data: {
          versionId,
          datasetId,
          ownerId: dataset.ownerId,
          request,
          bucket: deps.bucket,
          s3UploadId,
          now: deps.now(),
        },
      },
      { actor: principal },
    )
    return { versionId, position: outcome.position, state: outcome.state }
  } catch (error) {
    // Not recorded, so nobody could ever complete or abort it: release it now.
    await abortMultipartUpload(deps.s3, {
      bucket: deps.bucket,
      key: plan.objectKey,
      uploadId: s3UploadId,
    }).catch(() => undefined)
    throw error
  }
}
