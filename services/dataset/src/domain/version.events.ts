import type { DatasetVersionValidatedData } from '@argmax/contracts'
import type { DatasetFormat } from './limits.ts'

/**
 * Events of a dataset version, subject `dataset.version.<versionId>`. A version is born with
 * its upload (the upload id the API hands out IS the version id) and goes
 * UPLOADING → COMPLETING → VALIDATING → VALIDATED | REJECTED, or UPLOADING → ABORTED. Once
 * VALIDATED it never changes: training relies on its bytes, schema and profile.
 */
export interface UploadStarted {
  type: 'UploadStarted'
  data: {
    versionId: string
    datasetId: string
    ownerId: string
    /** Sanitised; what the user sees and downloads as. */
    fileName: string
    format: DatasetFormat
    size: number
    sha256: string
    partSize: number
    partCount: number
    bucket: string
    objectKey: string
    /** The S3 multipart upload id. */
    s3UploadId: string
    startedAt: string
    /** SHA-256 of the canonical request under an `Idempotency-Key` (see DatasetCreated). */
    requestHash?: string
  }
}

export interface UploadedPart {
  partNumber: number
  etag: string
}

/**
 * Parts the client reports as stored, with the ETag S3 gave it. The service keeps this record
 * itself because not every S3-compatible endpoint can list parts, and it is what an
 * interrupted client resumes from.
 */
export interface UploadPartsRecorded {
  type: 'UploadPartsRecorded'
  data: { versionId: string; parts: UploadedPart[] }
}

/**
 * The decision to complete, recorded before S3 is asked to assemble the parts: from here on no
 * part is recorded and no abort is accepted, so a complete and an abort sent together cannot
 * both act on S3 (the event log's expected-sequence check lets one of them through).
 */
export interface UploadCompletionStarted {
  type: 'UploadCompletionStarted'
  data: { versionId: string; startedAt: string }
}

/**
 * S3 refused to assemble the parts (an ETag that is not the stored part's, a part too small):
 * the upload is open again, for the client to store the parts again, or to abort.
 */
export interface UploadCompletionRefused {
  type: 'UploadCompletionRefused'
  data: { versionId: string; reason: string; refusedAt: string }
}

export interface UploadCompleted {
  type: 'UploadCompleted'
  data: {
    versionId: string
    datasetId: string
    bucket: string
    objectKey: string
    format: DatasetFormat
    size: number
    sha256: string
    partCount: number
    completedAt: string
  }
}

export interface UploadAborted {
  type: 'UploadAborted'
  data: { versionId: string; reason: 'client' | 'expired' | 'dataset_deleted'; abortedAt: string }
}

/**
 * The version is valid. schemaVersion 2 (the published shape, `DatasetVersionValidatedData`
 * of @argmax/contracts): the profile is stored beside the file and referenced, the schema is
 * inline unless it is large — so the event fits NATS's payload limit for any file up to
 * 2,000 columns. schemaVersion 1 had both inline; it is upcast on read (see upcasters.ts).
 */
export interface VersionValidated {
  type: 'VersionValidated'
  data: DatasetVersionValidatedData
}

export interface VersionIssue {
  row?: number
  column?: string
  code: string
  message: string
}

export interface VersionRejected {
  type: 'VersionRejected'
  data: {
    versionId: string
    datasetId: string
    /** The first issues, each cut to a bounded length (see event-bounds.ts). */
    errors: VersionIssue[]
    checksumMismatch: boolean
    /** The stored object was removed (always on a checksum mismatch). */
    objectDeleted: boolean
    rejectedAt: string
  }
}

export type VersionEvent = (
  | UploadStarted
  | UploadPartsRecorded
  | UploadCompletionStarted
  | UploadCompletionRefused
  | UploadCompleted
  | UploadAborted
  | VersionValidated
  | VersionRejected
) & { id?: string; schemaVersion?: number }

export const VERSION_EVENT_TYPES = [
  'UploadStarted',
  'UploadPartsRecorded',
  'UploadCompletionStarted',
  'UploadCompletionRefused',
  'UploadCompleted',
  'UploadAborted',
  'VersionValidated',
  'VersionRejected',
] as const satisfies ReadonlyArray<VersionEvent['type']>

export type VersionStatus =
  | 'UPLOADING'
  /** Being assembled in S3; shown to clients as UPLOADING (see apiStatusOf). */
  | 'COMPLETING'
  | 'VALIDATING'
  | 'VALIDATED'
  | 'REJECTED'
  | 'ABORTED'

/**
 * The status clients see. COMPLETING is the service's own step between the client's complete
 * and S3's assembly: to a client the upload is not complete until it is VALIDATING, and the
 * REST API's statuses stay the ones clients already know.
 */
export function publicStatus(status: VersionStatus): Exclude<VersionStatus, 'COMPLETING'> {
  return status === 'COMPLETING' ? 'UPLOADING' : status
}
