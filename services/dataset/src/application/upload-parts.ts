import type { Principal } from '@argmax/auth'
import { IllegalStateError, ValidationError } from '@argmax/errors'
import { handleCommand, loadAggregate } from '@argmax/events'
import { partRange, presignUploadPart } from '@argmax/storage'
import {
  assertAcceptsUploads,
  datasetDecider,
  recordedParts,
  versionDecider,
  type UploadedPart,
} from '../domain/index.ts'
import { datasetSubject, versionSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'
import { accessibleVersion, assertVersionAccess } from './version-access.ts'

/** Most URLs handed out per request: clients ask in batches as they go. */
export const MAX_PRESIGN_BATCH = 1000

export async function presignParts(
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'presignExpirySeconds'>,
  principal: Principal,
  datasetId: string,
  versionId: string,
  partNumbers: number[],
): Promise<{ parts: Array<{ partNumber: number; url: string }>; expiresInSeconds: number }> {
  // Both loads at once: the version (access, state) and the dataset (not deleted).
  const [{ version }, { state: dataset }] = await Promise.all([
    accessibleVersion(deps, principal, datasetId, versionId, 'write'),
    loadAggregate(deps.store, datasetDecider, datasetSubject(deps.names, datasetId)),
  ])
  if (version.status !== 'UPLOADING') {
    throw new IllegalStateError(`upload ${versionId} is ${version.status}: no more parts`)
  }
  assertAcceptsUploads(dataset, datasetId)
  const bad = partNumbers.findIndex((n) => !Number.isInteger(n) || n < 1 || n > version.partCount)
  if (bad >= 0) {
    throw ValidationError.field(`partNumbers/${bad}`, `must be within 1..${version.partCount}`)
  }
  const unique = [...new Set(partNumbers)].sort((a, b) => a - b)
  const parts = await Promise.all(
    unique.map(async (partNumber) => {
      // Each URL takes exactly its part's planned bytes (S3 checks the signed length).
      const { start, end } = partRange(version, version.size, partNumber)
      return {
        partNumber,
        url: await presignUploadPart(deps.s3, {
          bucket: version.bucket,
          key: version.objectKey,
          uploadId: version.s3UploadId,
          partNumber,
          contentLength: end - start,
          expiresInSeconds: deps.presignExpirySeconds,
        }),
      }
    }),
  )
  return { parts, expiresInSeconds: deps.presignExpirySeconds }
}

/** Records parts the client stored (with S3's ETags), the record a resume starts from. */
export async function recordParts(
  deps: Pick<DatasetDeps, 'store' | 'names'>,
  principal: Principal,
  datasetId: string,
  versionId: string,
  parts: UploadedPart[],
): Promise<{ position: number; recorded: number }> {
  // One load: the access check runs on the state the command is decided on.
  const outcome = await handleCommand(
    deps.store,
    versionDecider,
    versionSubject(deps.names, versionId),
    { type: 'RecordParts', data: { versionId, parts } },
    {
      actor: principal,
      guard: (state) => assertVersionAccess(state, principal, datasetId, versionId, 'write'),
    },
  )
  const state = outcome.state
  return {
    position: outcome.position,
    recorded: state.status === 'absent' ? 0 : recordedParts(state).length,
  }
}

export async function assertDatasetAcceptsUploads(
  deps: Pick<DatasetDeps, 'store' | 'names'>,
  datasetId: string,
): Promise<void> {
  const { state } = await loadAggregate(
    deps.store,
    datasetDecider,
    datasetSubject(deps.names, datasetId),
  )
  assertAcceptsUploads(state, datasetId)
}
