import type { Principal } from '@argmax/auth'
import type { UploadView } from '../api/contract.ts'
import { publicStatus, recordedParts } from '../domain/index.ts'
import type { DatasetDeps } from './dependencies.ts'
import { accessibleVersion } from './version-access.ts'

/**
 * An upload's status and recorded parts, read from its events rather than a projection: a
 * client resuming after a crash must see every part it reported, without waiting.
 */
export async function getUpload(
  deps: Pick<DatasetDeps, 'store' | 'names'>,
  principal: Principal,
  datasetId: string,
  versionId: string,
): Promise<UploadView> {
  const { version, lastSequence } = await accessibleVersion(
    deps,
    principal,
    datasetId,
    versionId,
    'read',
  )
  return {
    uploadId: version.versionId,
    versionId: version.versionId,
    datasetId: version.datasetId,
    status: publicStatus(version.status),
    fileName: version.fileName,
    format: version.format,
    size: version.size,
    sha256: version.sha256,
    partSize: version.partSize,
    partCount: version.partCount,
    parts: recordedParts(version),
    position: lastSequence,
  }
}
