import type { ModelTask, StoredObject } from '@argmax/contracts'

/**
 * Events of a manual registration, subject `registry.upload.<uploadId>`: start (the declared
 * signature is stored, a presigned PUT handed out) → the client PUTs the ONNX file → complete
 * (the registry checks the file and registers the version on the model, once). A completion
 * whose file fails the checks is answered 400 and changes nothing: the upload stays open for a
 * corrected file until it expires.
 */
export interface ModelUploadStarted {
  type: 'ModelUploadStarted'
  data: {
    uploadId: string
    model: string
    /** Who uploads (the model's owner or an admin). */
    ownerId: string
    bucket: string
    /** Where the client PUTs `model.onnx`. */
    objectKey: string
    /** Declared size in bytes: the presigned PUT is signed for exactly this length. */
    size: number
    /** Declared SHA-256 (hex), when the client gave one: a different file is refused. */
    sha256?: string
    /** The declared `ModelSignature`, stored as `schema.json` by the registry. */
    signature: StoredObject
    task: ModelTask
    metrics: Record<string, number>
    params?: Record<string, unknown>
    description?: string
    startedAt: string
    requestHash?: string
  }
}

export interface ModelUploadCompleted {
  type: 'ModelUploadCompleted'
  data: {
    uploadId: string
    model: string
    version: number
    /** What was found and checked: the artifact's real SHA-256 and size. */
    sha256: string
    size: number
    completedAt: string
  }
}

export interface ModelUploadAborted {
  type: 'ModelUploadAborted'
  data: {
    uploadId: string
    model: string
    reason: 'client' | 'expired'
    /** Objects removed with it (the uploaded file, if any). */
    objectsDeleted: number
    abortedAt: string
  }
}

export type UploadEvent = (ModelUploadStarted | ModelUploadCompleted | ModelUploadAborted) & {
  id?: string
}

export const UPLOAD_EVENT_TYPES = [
  'ModelUploadStarted',
  'ModelUploadCompleted',
  'ModelUploadAborted',
] as const satisfies ReadonlyArray<UploadEvent['type']>

export type UploadStatus = 'STARTED' | 'COMPLETED' | 'ABORTED'
