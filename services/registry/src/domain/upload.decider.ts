import { IllegalStateError, NotFoundError } from '@argmax/errors'
import { isRepeatedCreate, type AggregateDecider } from '@argmax/events'
import { uploadCompletedEventId } from './event-ids.ts'
import {
  UPLOAD_EVENT_TYPES,
  type ModelUploadAborted,
  type ModelUploadStarted,
  type UploadEvent,
  type UploadStatus,
} from './upload.events.ts'

export type UploadState =
  | { status: 'absent' }
  | (Omit<ModelUploadStarted['data'], 'startedAt'> & {
      status: UploadStatus
      startedAt: string
      version: number | null
    })

export const initialUploadState: UploadState = { status: 'absent' }

export type UploadCommand =
  | { type: 'StartUpload'; data: Omit<ModelUploadStarted['data'], 'startedAt'> & { now: Date } }
  | {
      type: 'CompleteUpload'
      data: { uploadId: string; version: number; sha256: string; size: number; now: Date }
    }
  | {
      type: 'AbortUpload'
      data: {
        uploadId: string
        reason: ModelUploadAborted['data']['reason']
        objectsDeleted: number
        now: Date
      }
    }

export function evolveUpload(state: UploadState, event: UploadEvent): UploadState {
  switch (event.type) {
    case 'ModelUploadStarted':
      return { ...event.data, status: 'STARTED', version: null }
    case 'ModelUploadCompleted':
      return state.status === 'absent'
        ? state
        : { ...state, status: 'COMPLETED', version: event.data.version }
    case 'ModelUploadAborted':
      return state.status === 'absent' ? state : { ...state, status: 'ABORTED' }
    default: {
      const unknownEvent: never = event
      return unknownEvent
    }
  }
}

export function decideUpload(command: UploadCommand, state: UploadState): UploadEvent[] {
  switch (command.type) {
    case 'StartUpload': {
      const { now, ...data } = command.data
      if (state.status !== 'absent') {
        // The same request under the same key: already started, nothing to record.
        if (isRepeatedCreate(state.requestHash, data.requestHash)) return []
        throw new IllegalStateError(`upload ${data.uploadId} already exists`)
      }
      return [{ type: 'ModelUploadStarted', data: { ...data, startedAt: now.toISOString() } }]
    }
    case 'CompleteUpload': {
      const { uploadId, version, sha256, size, now } = command.data
      const upload = requireExisting(state, uploadId)
      // Completed before (a retry after the version was registered): nothing new.
      if (upload.status === 'COMPLETED') return []
      if (upload.status === 'ABORTED') {
        throw new IllegalStateError(`upload ${uploadId} was aborted: start a new one`)
      }
      return [
        {
          id: uploadCompletedEventId(uploadId),
          type: 'ModelUploadCompleted',
          data: {
            uploadId,
            model: upload.model,
            version,
            sha256,
            size,
            completedAt: now.toISOString(),
          },
        },
      ]
    }
    case 'AbortUpload': {
      const { uploadId, reason, objectsDeleted, now } = command.data
      const upload = requireExisting(state, uploadId)
      if (upload.status === 'ABORTED') return []
      if (upload.status === 'COMPLETED') {
        throw new IllegalStateError(
          `upload ${uploadId} is complete: it registered version ${upload.version}`,
        )
      }
      return [
        {
          type: 'ModelUploadAborted',
          data: {
            uploadId,
            model: upload.model,
            reason,
            objectsDeleted,
            abortedAt: now.toISOString(),
          },
        },
      ]
    }
    default: {
      const unknownCommand: never = command
      return unknownCommand
    }
  }
}

export type ExistingUpload = Exclude<UploadState, { status: 'absent' }>

function requireExisting(state: UploadState, uploadId: string): ExistingUpload {
  if (state.status === 'absent') throw new NotFoundError('upload', uploadId)
  return state
}

export const uploadDecider = {
  decide: decideUpload,
  evolve: evolveUpload,
  initialState: initialUploadState,
  eventTypes: UPLOAD_EVENT_TYPES,
} satisfies AggregateDecider<UploadCommand, UploadEvent, UploadState>
