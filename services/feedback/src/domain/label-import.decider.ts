import type { Role } from '@argmax/auth'
import { IllegalStateError } from '@argmax/errors'
import { deterministicUuid, isRepeatedCreate, type AggregateDecider } from '@argmax/events'

/**
 * A bulk import of labels from a dataset version, subject `feedback.import.<id>`: requested →
 * completed (with the counts and the first refused rows) | failed. The rows are checked exactly
 * like labels sent to the API, as the principal who asked.
 */
export interface LabelMapping {
  /** The column holding prediction ids. */
  predictionId: string
  /** The column holding the true value. */
  label: string
}

export interface LabelImportRequested {
  type: 'LabelImportRequested'
  data: {
    importId: string
    principal: { subject: string; roles: Role[] }
    datasetId: string
    versionId: string
    bucket: string
    objectKey: string
    format: 'csv' | 'jsonl'
    mapping: LabelMapping
    requestedAt: string
    requestHash?: string
  }
}

export interface ImportIssue {
  /** 1-based line of the file (the CSV header is line 1). */
  row: number
  column: string
  message: string
}

export type LabelImportEvent = (
  | LabelImportRequested
  | {
      type: 'LabelImportCompleted'
      data: {
        importId: string
        accepted: number
        rejected: number
        errors: ImportIssue[]
        completedAt: string
      }
    }
  | { type: 'LabelImportFailed'; data: { importId: string; error: string; failedAt: string } }
) & { id?: string }

export const LABEL_IMPORT_EVENT_TYPES = [
  'LabelImportRequested',
  'LabelImportCompleted',
  'LabelImportFailed',
] as const satisfies ReadonlyArray<LabelImportEvent['type']>

export type LabelImportState =
  | { status: 'absent' }
  | (LabelImportRequested['data'] & { status: 'RUNNING' | 'COMPLETED' | 'FAILED' })

export type LabelImportCommand =
  | {
      type: 'RequestImport'
      data: Omit<LabelImportRequested['data'], 'requestedAt'> & { now: Date }
    }
  | {
      type: 'CompleteImport'
      data: {
        importId: string
        accepted: number
        rejected: number
        errors: ImportIssue[]
        now: Date
      }
    }
  | { type: 'FailImport'; data: { importId: string; error: string; now: Date } }

export function evolveLabelImport(
  state: LabelImportState,
  event: LabelImportEvent,
): LabelImportState {
  switch (event.type) {
    case 'LabelImportRequested':
      return { ...event.data, status: 'RUNNING' }
    case 'LabelImportCompleted':
      return state.status === 'absent' ? state : { ...state, status: 'COMPLETED' }
    case 'LabelImportFailed':
      return state.status === 'absent' ? state : { ...state, status: 'FAILED' }
    default: {
      const unknown: never = event
      return unknown
    }
  }
}

export function decideLabelImport(
  command: LabelImportCommand,
  state: LabelImportState,
): LabelImportEvent[] {
  switch (command.type) {
    case 'RequestImport': {
      const { now, ...data } = command.data
      if (state.status !== 'absent') {
        if (isRepeatedCreate(state.requestHash, data.requestHash)) return []
        throw new IllegalStateError(`import ${data.importId} already exists`)
      }
      return [{ type: 'LabelImportRequested', data: { ...data, requestedAt: now.toISOString() } }]
    }
    case 'CompleteImport': {
      const { now, ...data } = command.data
      if (state.status !== 'RUNNING') return []
      return [
        {
          id: deterministicUuid(`feedback.import.${data.importId}:outcome`),
          type: 'LabelImportCompleted',
          data: { ...data, completedAt: now.toISOString() },
        },
      ]
    }
    case 'FailImport': {
      const { now, ...data } = command.data
      if (state.status !== 'RUNNING') return []
      return [
        {
          id: deterministicUuid(`feedback.import.${data.importId}:outcome`),
          type: 'LabelImportFailed',
          data: { ...data, failedAt: now.toISOString() },
        },
      ]
    }
    default: {
      const unknown: never = command
      return unknown
    }
  }
}

export const labelImportDecider = {
  decide: decideLabelImport,
  evolve: evolveLabelImport,
  initialState: { status: 'absent' } as LabelImportState,
  eventTypes: LABEL_IMPORT_EVENT_TYPES,
} satisfies AggregateDecider<LabelImportCommand, LabelImportEvent, LabelImportState>
