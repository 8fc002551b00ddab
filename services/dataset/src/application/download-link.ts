import type { Principal } from '@argmax/auth'
import { IllegalStateError } from '@argmax/errors'
import { presignGetObject } from '@argmax/storage'
import type { DatasetDeps } from './dependencies.ts'
import { accessibleVersion } from './version-access.ts'

/** A presigned GET for a validated version's file, saved under the user's file name. */
export async function downloadLink(
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'presignExpirySeconds'>,
  principal: Principal,
  datasetId: string,
  versionId: string,
): Promise<{
  url: string
  expiresInSeconds: number
  fileName: string
  size: number
  sha256: string
}> {
  const { version } = await accessibleVersion(deps, principal, datasetId, versionId, 'read')
  if (version.status !== 'VALIDATED') {
    throw new IllegalStateError(
      `version ${versionId} is ${version.status}: only VALIDATED versions can be downloaded`,
    )
  }
  const url = await presignGetObject(deps.s3, {
    bucket: version.bucket,
    key: version.objectKey,
    expiresInSeconds: deps.presignExpirySeconds,
    downloadFileName: version.fileName,
  })
  return {
    url,
    expiresInSeconds: deps.presignExpirySeconds,
    fileName: version.fileName,
    size: version.size,
    sha256: version.sha256,
  }
}
