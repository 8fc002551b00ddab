import { PayloadTooLargeError, ValidationError, type FieldIssue } from '@argmax/errors'
import { defaultPartSize, planParts, type PartPlan } from '@argmax/storage'
import { sanitizeFileName } from './file-name.ts'
import { DATASET_FORMATS, MAX_UPLOAD_BYTES, type DatasetFormat } from './limits.ts'
import { versionObjectKey } from './object-keys.ts'
import type { UploadStarted } from './version.events.ts'

export interface UploadRequest {
  fileName: string
  size: number
  sha256: string
  format: string
  /** Optional: the service picks one that fits S3's limits when absent. */
  partSize?: number
}

export interface PlannedUpload extends PartPlan {
  fileName: string
  format: DatasetFormat
  size: number
  sha256: string
  objectKey: string
}

const SHA256_HEX = /^[0-9a-f]{64}$/

/**
 * Checks a declared upload and decides everything about it that does not need I/O. Runs before
 * anything is created: an oversized file is refused with 413 here, before the S3 multipart
 * upload exists or any event is written.
 */
export function planUpload(
  request: UploadRequest,
  ids: { datasetId: string; versionId: string },
): PlannedUpload {
  if (Number.isSafeInteger(request.size) && request.size > MAX_UPLOAD_BYTES) {
    throw new PayloadTooLargeError('size', MAX_UPLOAD_BYTES, request.size)
  }
  const issues: FieldIssue[] = []
  if (!Number.isSafeInteger(request.size) || request.size < 0) {
    issues.push({ field: 'size', message: 'must be a whole number of bytes ≥ 0' })
  }
  const sha256 = request.sha256.toLowerCase()
  if (!SHA256_HEX.test(sha256)) {
    issues.push({ field: 'sha256', message: 'must be 64 hexadecimal characters' })
  }
  if (!(DATASET_FORMATS as readonly string[]).includes(request.format)) {
    issues.push({ field: 'format', message: `must be one of ${DATASET_FORMATS.join(', ')}` })
  }
  if (request.fileName.length === 0 || request.fileName.length > 1024) {
    issues.push({ field: 'fileName', message: 'must be 1 to 1024 characters' })
  }
  let plan: PartPlan | undefined
  if (issues.length === 0) {
    const partSize = request.partSize ?? defaultPartSize(request.size)
    const planned = planParts(request.size, partSize)
    if ('error' in planned) issues.push({ field: 'partSize', message: planned.error })
    else plan = planned
  }
  if (issues.length > 0 || !plan) {
    throw ValidationError.of(issues)
  }
  const format = request.format as DatasetFormat
  return {
    fileName: sanitizeFileName(request.fileName, `data.${format}`),
    format,
    size: request.size,
    sha256,
    objectKey: versionObjectKey(ids.datasetId, ids.versionId, format),
    ...plan,
  }
}

/**
 * The `UploadStarted` of a planned upload: a user's (into its S3 multipart upload) and a version
 * the platform writes itself record the same plan.
 */
export function uploadStarted(
  plan: PlannedUpload,
  version: { versionId: string; datasetId: string; ownerId: string },
  storage: { bucket: string; s3UploadId: string },
  startedAt: string,
): UploadStarted['data'] {
  return {
    ...version,
    fileName: plan.fileName,
    format: plan.format,
    size: plan.size,
    sha256: plan.sha256,
    partSize: plan.partSize,
    partCount: plan.partCount,
    bucket: storage.bucket,
    objectKey: plan.objectKey,
    s3UploadId: storage.s3UploadId,
    startedAt,
  }
}
