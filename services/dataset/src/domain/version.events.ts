import type { PlatformVersionLineage } from '@argmax/contracts'
import type { DatasetFormat } from './limits.ts'

/**
 * Events of a dataset version, subject `dataset.version.<versionId>`. A version is born with
 * its upload (the upload id the API hands out IS the version id) and goes
 * UPLOADING → VALIDATING → VALIDATED | REJECTED, or UPLOADING → ABORTED. Once VALIDATED it
 * never changes: training relies on its bytes, schema and profile.
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
    /** A version the platform wrote itself (a feedback dataset): where its bytes came from. */
    lineage?: PlatformVersionLineage
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

/** JSON the validator produced; the domain stores it verbatim and never interprets it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

export interface VersionValidated {
  type: 'VersionValidated'
  data: {
    versionId: string
    datasetId: string
    rowCount: number
    size: number
    sha256: string
    schema: Json
    profile: Json
    validatedAt: string
  }
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
  | UploadCompleted
  | UploadAborted
  | VersionValidated
  | VersionRejected
) & { id?: string }

export const VERSION_EVENT_TYPES = [
  'UploadStarted',
  'UploadPartsRecorded',
  'UploadCompleted',
  'UploadAborted',
  'VersionValidated',
  'VersionRejected',
] as const satisfies ReadonlyArray<VersionEvent['type']>

export type VersionStatus = 'UPLOADING' | 'VALIDATING' | 'VALIDATED' | 'REJECTED' | 'ABORTED'
