import { DATASET_EVENTS, type DatasetVersionValidatedData } from '@argmax/contracts'
import { IllegalStateError, NotFoundError, ValidationError, type FieldIssue } from '@argmax/errors'
import { isRepeatedCreate, type AggregateDecider } from '@argmax/events'
import {
  boundIssues,
  jsonByteLength,
  MAX_ETAG_CHARS,
  MAX_EVENT_DATA_BYTES,
  MAX_PARTS_PER_EVENT,
} from './event-bounds.ts'
import { uploadCompletedEventId, validationOutcomeEventId } from './event-ids.ts'
import { planUpload, uploadStarted, type UploadRequest } from './upload-request.ts'
import {
  VERSION_EVENT_TYPES,
  type UploadAborted,
  type UploadStarted,
  type UploadedPart,
  type VersionEvent,
  type VersionIssue,
  type VersionStatus,
} from './version.events.ts'

export type VersionState =
  | { status: 'absent' }
  | (Omit<UploadStarted['data'], 'startedAt'> & {
      status: VersionStatus
      /** ETag by part number, as recorded. */
      parts: Record<number, string>
      /** A rejection removed the stored file (its bytes were not the ones declared). */
      objectDeleted: boolean
    })

export const initialVersionState: VersionState = { status: 'absent' }

export type ValidationOutcome =
  | ({ ok: true } & Omit<DatasetVersionValidatedData, 'versionId' | 'datasetId' | 'validatedAt'>)
  | { ok: false; errors: VersionIssue[]; checksumMismatch: boolean; objectDeleted: boolean }

export type VersionCommand =
  | {
      type: 'StartUpload'
      data: {
        versionId: string
        datasetId: string
        ownerId: string
        request: UploadRequest
        bucket: string
        s3UploadId: string
        now: Date
        /** Set when started under an Idempotency-Key (see UploadStarted). */
        requestHash?: string
      }
    }
  | { type: 'RecordParts'; data: { versionId: string; parts: UploadedPart[] } }
  /** Claims the upload for completion (UploadCompletionStarted), before S3 is touched. */
  | { type: 'CompleteUpload'; data: { versionId: string; parts: UploadedPart[]; now: Date } }
  /** S3 assembled the object, of `storedSize` bytes (HeadObject's ContentLength). */
  | { type: 'RecordCompletion'; data: { versionId: string; storedSize: number; now: Date } }
  /** S3 refused to assemble the parts: the upload is open again. */
  | { type: 'RefuseCompletion'; data: { versionId: string; reason: string; now: Date } }
  | {
      type: 'AbortUpload'
      data: { versionId: string; reason: UploadAborted['data']['reason']; now: Date }
    }
  | { type: 'RecordValidation'; data: { versionId: string; outcome: ValidationOutcome; now: Date } }

export function evolveVersion(state: VersionState, event: VersionEvent): VersionState {
  switch (event.type) {
    case 'UploadStarted': {
      const { startedAt: _startedAt, ...data } = event.data
      return { status: 'UPLOADING', ...data, parts: {}, objectDeleted: false }
    }
    case 'UploadPartsRecorded': {
      if (state.status === 'absent') return state
      const parts = { ...state.parts }
      for (const part of event.data.parts) parts[part.partNumber] = part.etag
      return { ...state, parts }
    }
    case 'UploadCompletionStarted':
      return state.status === 'absent' ? state : { ...state, status: 'COMPLETING' }
    case 'UploadCompletionRefused':
      return state.status === 'absent' ? state : { ...state, status: 'UPLOADING' }
    case 'UploadCompleted':
      return state.status === 'absent' ? state : { ...state, status: 'VALIDATING' }
    case 'UploadAborted':
      return state.status === 'absent' ? state : { ...state, status: 'ABORTED' }
    case 'VersionValidated':
      return state.status === 'absent' ? state : { ...state, status: 'VALIDATED' }
    case 'VersionRejected':
      return state.status === 'absent'
        ? state
        : { ...state, status: 'REJECTED', objectDeleted: event.data.objectDeleted }
    default: {
      const unknownEvent: never = event
      return unknownEvent
    }
  }
}

export function decideVersion(command: VersionCommand, state: VersionState): VersionEvent[] {
  switch (command.type) {
    case 'StartUpload': {
      const { versionId, datasetId, ownerId, request, bucket, s3UploadId, now, requestHash } =
        command.data
      if (state.status !== 'absent') {
        // The same request again under the same key: already started, nothing to record.
        if (isRepeatedCreate(state.requestHash, requestHash)) return []
        throw new IllegalStateError(`version ${versionId} already exists`)
      }
      const plan = planUpload(request, { datasetId, versionId })
      return [
        {
          type: 'UploadStarted',
          data: {
            ...uploadStarted(
              plan,
              { versionId, datasetId, ownerId },
              { bucket, s3UploadId },
              now.toISOString(),
            ),
            ...(requestHash !== undefined ? { requestHash } : {}),
          },
        },
      ]
    }
    case 'RecordParts': {
      const version = requireUploading(state, command.data.versionId, 'record parts of')
      assertPartNumbers(command.data.parts, version.partCount)
      // Only what is new or changed (a part uploaded again gets a new ETag): recording the
      // same parts twice writes nothing, so clients may retry freely.
      const changed = dedupeByPartNumber(command.data.parts).filter(
        (part) => version.parts[part.partNumber] !== normaliseEtag(part.etag),
      )
      const parts = changed.map((part) => ({ ...part, etag: normaliseEtag(part.etag) }))
      // Several events for a long list, each within the payload limit (see event-bounds.ts).
      const events: VersionEvent[] = []
      for (let start = 0; start < parts.length; start += MAX_PARTS_PER_EVENT) {
        events.push({
          type: 'UploadPartsRecorded',
          data: {
            versionId: version.versionId,
            parts: parts.slice(start, start + MAX_PARTS_PER_EVENT),
          },
        })
      }
      return events
    }
    case 'CompleteUpload': {
      const { versionId, now } = command.data
      const version = requireExisting(state, versionId)
      // A retried complete after success changes nothing.
      if (isCompleted(version.status)) return []
      if (version.status === 'ABORTED') {
        throw new IllegalStateError(`cannot complete upload ${versionId}: it was aborted`)
      }
      assertCompletePartList(command.data.parts, version)
      // Already claimed (a retry after S3 or NATS failed): the caller carries on with S3.
      if (version.status === 'COMPLETING') return []
      return [
        { type: 'UploadCompletionStarted', data: { versionId, startedAt: now.toISOString() } },
      ]
    }
    case 'RecordCompletion': {
      const { versionId, storedSize, now } = command.data
      const version = requireExisting(state, versionId)
      if (isCompleted(version.status)) return []
      if (version.status !== 'COMPLETING') {
        throw new IllegalStateError(`upload ${versionId} is ${version.status}, not being completed`)
      }
      const completed: VersionEvent = {
        id: uploadCompletedEventId(versionId),
        type: 'UploadCompleted',
        data: {
          versionId,
          datasetId: version.datasetId,
          bucket: version.bucket,
          objectKey: version.objectKey,
          format: version.format,
          size: version.size,
          sha256: version.sha256,
          partCount: version.partCount,
          completedAt: now.toISOString(),
        },
      }
      // Fewer bytes (a client's mistake) are the validator's to report, from the object's
      // length and without reading it, like any other bad file.
      if (storedSize <= version.size) return [completed]
      // More bytes than declared (presigned URLs bind each part's length on S3, but not every
      // endpoint checks): rejected here and now, without reading a byte of it. The caller
      // deletes the object once this is recorded.
      return [
        completed,
        {
          id: validationOutcomeEventId(versionId),
          type: 'VersionRejected',
          data: {
            versionId,
            datasetId: version.datasetId,
            errors: [sizeMismatchIssue(storedSize, version.size)],
            checksumMismatch: true,
            objectDeleted: true,
            rejectedAt: now.toISOString(),
          },
        },
      ]
    }
    case 'RefuseCompletion': {
      const { versionId, reason, now } = command.data
      const version = requireExisting(state, versionId)
      if (version.status !== 'COMPLETING') return []
      return [
        {
          type: 'UploadCompletionRefused',
          data: { versionId, reason, refusedAt: now.toISOString() },
        },
      ]
    }
    case 'AbortUpload': {
      const { versionId, reason, now } = command.data
      const version = requireExisting(state, versionId)
      if (version.status === 'ABORTED') return []
      // A claimed completion is only given up when S3 no longer has the multipart upload.
      if (version.status === 'COMPLETING' && reason !== 'expired') {
        throw new IllegalStateError(
          `upload ${versionId} is being completed: it can no longer be aborted ` +
            '(if its completion failed, complete it again)',
        )
      }
      if (version.status !== 'UPLOADING' && version.status !== 'COMPLETING') {
        throw new IllegalStateError(
          `upload ${versionId} is ${version.status}: only an upload in progress can be aborted`,
        )
      }
      return [{ type: 'UploadAborted', data: { versionId, reason, abortedAt: now.toISOString() } }]
    }
    case 'RecordValidation': {
      const { versionId, outcome, now } = command.data
      const version = requireExisting(state, versionId)
      // One outcome per version, ever: a validator that crashed after writing it and
      // re-ran must not write a second (possibly different) one.
      if (version.status === 'VALIDATED' || version.status === 'REJECTED') return []
      if (version.status !== 'VALIDATING') {
        throw new IllegalStateError(`version ${versionId} is ${version.status}, not VALIDATING`)
      }
      const id = validationOutcomeEventId(versionId)
      const at = now.toISOString()
      const rejected = (rejection: Extract<ValidationOutcome, { ok: false }>): VersionEvent => ({
        id,
        type: 'VersionRejected',
        data: {
          versionId,
          datasetId: version.datasetId,
          errors: boundIssues(rejection.errors),
          checksumMismatch: rejection.checksumMismatch,
          objectDeleted: rejection.objectDeleted,
          rejectedAt: at,
        },
      })
      if (!outcome.ok) return [rejected(outcome)]
      const { ok: _ok, ...result } = outcome
      const data = { versionId, datasetId: version.datasetId, ...result, validatedAt: at }
      const bytes = jsonByteLength(data)
      if (bytes > MAX_EVENT_DATA_BYTES) {
        // The caller stores large documents and references them, so this is not expected;
        // should it happen, the version still gets an outcome it can be told about.
        return [
          rejected({
            ok: false,
            errors: [
              {
                code: 'outcome_too_large',
                message:
                  `the validation result takes ${bytes} bytes, more than the ${MAX_EVENT_DATA_BYTES} ` +
                  'an event may hold; the file cannot be recorded as validated',
              },
            ],
            checksumMismatch: false,
            objectDeleted: false,
          }),
        ]
      }
      return [
        {
          id,
          type: 'VersionValidated',
          schemaVersion: DATASET_EVENTS.versionValidatedSchemaVersion,
          data,
        },
      ]
    }
    default: {
      const unknownCommand: never = command
      return unknownCommand
    }
  }
}

type ExistingVersion = Exclude<VersionState, { status: 'absent' }>

/** Past completion: the file is assembled and has (or is getting) its validation. */
function isCompleted(status: VersionStatus): boolean {
  return status === 'VALIDATING' || status === 'VALIDATED' || status === 'REJECTED'
}

/** The same wording as the validator's, wherever the length is found to differ. */
export function sizeMismatchIssue(size: number, declaredSize: number): VersionIssue {
  const hint = size < declaredSize ? ' — the upload is truncated' : ''
  return {
    code: 'size_mismatch',
    message: `the file has ${size} bytes but ${declaredSize} were declared${hint}`,
  }
}

function requireExisting(state: VersionState, versionId: string): ExistingVersion {
  if (state.status === 'absent') throw new NotFoundError('upload', versionId)
  return state
}

function requireUploading(state: VersionState, versionId: string, action: string) {
  const version = requireExisting(state, versionId)
  if (version.status !== 'UPLOADING') {
    const what = version.status === 'COMPLETING' ? 'being completed' : version.status
    throw new IllegalStateError(`cannot ${action} upload ${versionId}: it is ${what}`)
  }
  return version
}

function assertPartNumbers(parts: UploadedPart[], partCount: number): void {
  const issues: FieldIssue[] = []
  parts.forEach((part, index) => {
    if (!Number.isInteger(part.partNumber) || part.partNumber < 1 || part.partNumber > partCount) {
      issues.push({ field: `parts/${index}/partNumber`, message: `must be within 1..${partCount}` })
    }
    if (normaliseEtag(part.etag).length === 0) {
      issues.push({ field: `parts/${index}/etag`, message: 'must not be empty' })
    } else if (part.etag.length > MAX_ETAG_CHARS) {
      issues.push({
        field: `parts/${index}/etag`,
        message: `must be at most ${MAX_ETAG_CHARS} characters`,
      })
    }
  })
  if (issues.length > 0) {
    throw ValidationError.of(issues)
  }
}

/**
 * Completing must name every part 1..partCount exactly once, each as recorded. Checked here,
 * before S3 sees the list: some endpoints crash on a Complete naming a missing part, and on
 * AWS a mismatch would surface as an opaque InvalidPart.
 */
function assertCompletePartList(parts: UploadedPart[], version: ExistingVersion): void {
  assertPartNumbers(parts, version.partCount)
  const given = new Map<number, string>()
  for (const part of parts) {
    if (given.has(part.partNumber)) {
      throw ValidationError.field('parts', `part ${part.partNumber} is listed twice`)
    }
    given.set(part.partNumber, normaliseEtag(part.etag))
  }
  const missing: number[] = []
  const unrecorded: number[] = []
  const mismatched: number[] = []
  for (let partNumber = 1; partNumber <= version.partCount; partNumber++) {
    const etag = given.get(partNumber)
    const recorded = version.parts[partNumber]
    if (etag === undefined) missing.push(partNumber)
    else if (recorded === undefined) unrecorded.push(partNumber)
    else if (recorded !== etag) mismatched.push(partNumber)
  }
  const issues: FieldIssue[] = []
  if (missing.length > 0) {
    issues.push({
      field: 'parts',
      message: `missing part(s) ${summarise(missing)} of ${version.partCount}`,
    })
  }
  if (unrecorded.length > 0) {
    issues.push({
      field: 'parts',
      message: `part(s) ${summarise(unrecorded)} were never recorded as uploaded`,
    })
  }
  if (mismatched.length > 0) {
    issues.push({
      field: 'parts',
      message: `part(s) ${summarise(mismatched)} have a different ETag than recorded`,
    })
  }
  if (issues.length > 0) {
    throw ValidationError.of(issues)
  }
}

function summarise(numbers: number[]): string {
  const shown = numbers.slice(0, 10).join(', ')
  return numbers.length > 10 ? `${shown} and ${numbers.length - 10} more` : shown
}

function dedupeByPartNumber(parts: UploadedPart[]): UploadedPart[] {
  const byNumber = new Map<number, UploadedPart>()
  for (const part of parts) byNumber.set(part.partNumber, part)
  return [...byNumber.values()].sort((a, b) => a.partNumber - b.partNumber)
}

/** ETags travel quoted (`"abc"`) in headers and bare in JSON; compare them bare. */
export function normaliseEtag(etag: string): string {
  return etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"+|"+$/g, '')
}

export function recordedParts(state: ExistingVersion): UploadedPart[] {
  return Object.entries(state.parts)
    .map(([partNumber, etag]) => ({ partNumber: Number(partNumber), etag }))
    .sort((a, b) => a.partNumber - b.partNumber)
}

export const versionDecider = {
  decide: decideVersion,
  evolve: evolveVersion,
  initialState: initialVersionState,
  eventTypes: VERSION_EVENT_TYPES,
} satisfies AggregateDecider<VersionCommand, VersionEvent, VersionState>
