/** The dataset service's REST shapes, as the CLI reads them (see services/dataset/README.md). */
export interface DatasetView {
  id: string
  name: string
  description: string
  tags: string[]
  ownerId: string
  createdAt: string
  updatedAt: string
  deletedAt: string | null
  versionCount: number
}

export type VersionStatus = 'UPLOADING' | 'VALIDATING' | 'VALIDATED' | 'REJECTED' | 'ABORTED'

export interface VersionIssue {
  row?: number
  column?: string
  code: string
  message: string
}

export interface VersionView {
  id: string
  datasetId: string
  number: number
  status: VersionStatus
  fileName: string
  format: 'csv' | 'jsonl'
  size: number
  sha256: string
  rowCount: number | null
  schema: unknown
  profile: unknown
  errors: VersionIssue[]
  createdAt: string
  completedAt: string | null
  finishedAt: string | null
}

export interface UploadView {
  uploadId: string
  versionId: string
  datasetId: string
  status: VersionStatus
  fileName: string
  format: 'csv' | 'jsonl'
  size: number
  sha256: string
  partSize: number
  partCount: number
  parts: Array<{ partNumber: number; etag: string }>
}

export interface StartedUpload extends UploadView {
  position: number
}

export interface PartUrl {
  partNumber: number
  url: string
}
