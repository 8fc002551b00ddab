import type { Principal } from '@argmax/auth'
import { handleCommand, identifyCreate, loadAggregate } from '@argmax/events'
import { abortMultipartUpload, startMultipartUpload } from '@argmax/storage'
import {
  assertAcceptsUploads,
  contentTypeOf,
  decideVersion,
  planUpload,
  type UploadRequest,
  type VersionCommand,
  type VersionState,
  versionDecider,
} from '../domain/index.ts'
import { versionSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'
import { changeableDataset } from './dataset-access.ts'

/**
 * Starts a new version's upload. Everything that can be refused is refused first — who may
 * write, the dataset's state (409 when deleted), the declared size (413 above 2 GiB), the part
 * plan — so a refused request leaves neither an S3 upload nor an event behind.
 *
 * Under an `Idempotency-Key` the version id derives from (caller, dataset, key): a retry finds
 * its version before any S3 call and is answered with it. Identical requests racing each
 * start an S3 upload; only one is recorded, and each loser aborts its own, leaving no orphan.
 */
export async function startUpload(
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'bucket' | 'now' | 'newId'>,
  principal: Principal,
  datasetId: string,
  request: UploadRequest,
  idempotencyKey?: string,
): Promise<{ versionId: string; position: number; state: VersionState }> {
  const dataset = await changeableDataset(deps, principal, datasetId)
  assertAcceptsUploads(dataset, datasetId)
  const { id: versionId, requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: `dataset.${datasetId}.upload`,
    request,
    newId: deps.newId,
  })
  const plan = planUpload(request, { datasetId, versionId })
  const command = (s3UploadId: string): VersionCommand => ({
    type: 'StartUpload',
    data: {
      versionId,
      datasetId,
      ownerId: dataset.ownerId,
      request,
      bucket: deps.bucket,
      s3UploadId,
      now: deps.now(),
      ...(requestHash !== undefined ? { requestHash } : {}),
    },
  })
  const subject = versionSubject(deps.names, versionId)
  if (requestHash !== undefined) {
    const existing = await loadAggregate(deps.store, versionDecider, subject)
    // Deciding on what exists: nothing to do for a repeat, a 422 for another request.
    if (decideVersion(command('pending'), existing.state).length === 0) {
      return { versionId, position: existing.position, state: existing.state }
    }
  }
  const s3UploadId = await startMultipartUpload(deps.s3, {
    bucket: deps.bucket,
    key: plan.objectKey,
    contentType: contentTypeOf(plan.format),
  })
  // Not recorded, so nobody could ever complete or abort it: release it. Only the multipart
  // upload — the object key is shared with the version that was recorded.
  const release = () =>
    abortMultipartUpload(deps.s3, {
      bucket: deps.bucket,
      key: plan.objectKey,
      uploadId: s3UploadId,
    }).catch(() => undefined)
  try {
    const outcome = await handleCommand(deps.store, versionDecider, subject, command(s3UploadId), {
      actor: principal,
    })
    // Nothing written: an identical request (a concurrent retry) recorded its upload first.
    if (outcome.written === 0) await release()
    return { versionId, position: outcome.position, state: outcome.state }
  } catch (error) {
    await release()
    throw error
  }
}
