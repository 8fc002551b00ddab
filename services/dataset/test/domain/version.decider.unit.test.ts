import {
  IdempotencyKeyReusedError,
  IllegalStateError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import {
  MAX_UPLOAD_BYTES,
  decideVersion,
  uploadCompletedEventId,
  validationOutcomeEventId,
  versionDecider,
  type VersionEvent,
} from '../../src/domain/index.ts'
import { deciderSpec as spec } from '@argmax/events'

const MiB = 1024 * 1024
const now = new Date('2026-01-10T12:00:00.000Z')
const datasetId = '0190a5c8-0000-7000-8000-000000000001'
const versionId = '0190a5c8-0000-7000-8000-0000000000a1'
const sha256 = 'ab'.repeat(32)

const started: VersionEvent = {
  type: 'UploadStarted',
  data: {
    versionId,
    datasetId,
    ownerId: 'alice',
    fileName: 'movies.csv',
    format: 'csv',
    size: 12 * MiB,
    sha256,
    partSize: 5 * MiB,
    partCount: 3,
    bucket: 'argmax-datasets',
    objectKey: `datasets/${datasetId}/versions/${versionId}/data.csv`,
    s3UploadId: 's3-upload-1',
    startedAt: '2026-01-10T11:00:00.000Z',
  },
}
const partsRecorded: VersionEvent = {
  type: 'UploadPartsRecorded',
  data: {
    versionId,
    parts: [
      { partNumber: 1, etag: 'e1' },
      { partNumber: 2, etag: 'e2' },
      { partNumber: 3, etag: 'e3' },
    ],
  },
}
const allParts = [
  { partNumber: 3, etag: '"e3"' },
  { partNumber: 1, etag: 'e1' },
  { partNumber: 2, etag: 'e2' },
]
const completed: VersionEvent = {
  id: uploadCompletedEventId(versionId),
  type: 'UploadCompleted',
  data: {
    versionId,
    datasetId,
    bucket: 'argmax-datasets',
    objectKey: started.data.objectKey as string,
    format: 'csv',
    size: 12 * MiB,
    sha256,
    partCount: 3,
    completedAt: now.toISOString(),
  },
}

const versions = spec(versionDecider)
const startCommand = (
  request: Partial<{
    fileName: string
    size: number
    sha256: string
    format: string
    partSize: number
  }>,
) => ({
  type: 'StartUpload' as const,
  data: {
    versionId,
    datasetId,
    ownerId: 'alice',
    request: {
      fileName: 'movies.csv',
      size: 12 * MiB,
      sha256,
      format: 'csv',
      partSize: 5 * MiB,
      ...request,
    },
    bucket: 'argmax-datasets',
    s3UploadId: 's3-upload-1',
    now,
  },
})

describe('version decider: starting an upload', () => {
  it('plans the parts and keys the object by ids only', () => {
    const [event] = decideVersion(startCommand({ fileName: '../../../etc/passwd' }), {
      status: 'absent',
    })
    expect(event).toMatchObject({
      type: 'UploadStarted',
      data: {
        fileName: 'passwd',
        partCount: 3,
        objectKey: `datasets/${datasetId}/versions/${versionId}/data.csv`,
      },
    })
  })

  it('refuses more than 2 GiB with PayloadTooLarge', () => {
    versions
      .given([])
      .when(startCommand({ size: MAX_UPLOAD_BYTES + 1 }))
      .thenThrows(PayloadTooLargeError)
  })

  it('names each bad field', () => {
    versions
      .given([])
      .when(startCommand({ sha256: 'xyz', format: 'xlsx' }))
      .thenThrows(ValidationError, /sha256: .*; format: /)
    versions
      .given([])
      .when(startCommand({ partSize: MiB }))
      .thenThrows(ValidationError, /partSize/)
  })

  it('refuses to start the same version twice', () => {
    versions.given([started]).when(startCommand({})).thenThrows(IllegalStateError)
  })

  it('records the request hash and answers its repeat with nothing; another request is a 422', () => {
    const keyed = { ...startCommand({}), data: { ...startCommand({}).data, requestHash: 'h1' } }
    const [first] = decideVersion(keyed, { status: 'absent' })
    expect(first!.data).toMatchObject({ requestHash: 'h1' })
    versions.given([first!]).when(keyed).then([])
    // A retry that lost the race carries its own S3 upload id: still the same request.
    versions
      .given([first!])
      .when({ ...keyed, data: { ...keyed.data, s3UploadId: 's3-upload-2' } })
      .then([])
    versions
      .given([first!])
      .when({ ...keyed, data: { ...keyed.data, requestHash: 'h2' } })
      .thenThrows(IdempotencyKeyReusedError)
  })
})

describe('version decider: parts', () => {
  it('records new parts with bare ETags and ignores ones already recorded', () => {
    versions
      .given([
        started,
        {
          type: 'UploadPartsRecorded',
          data: { versionId, parts: [{ partNumber: 1, etag: 'e1' }] },
        },
      ])
      .when({
        type: 'RecordParts',
        data: {
          versionId,
          parts: [
            { partNumber: 1, etag: '"e1"' },
            { partNumber: 2, etag: '"e2"' },
          ],
        },
      })
      .then([
        {
          type: 'UploadPartsRecorded',
          data: { versionId, parts: [{ partNumber: 2, etag: 'e2' }] },
        },
      ])
    versions
      .given([started, partsRecorded])
      .when({ type: 'RecordParts', data: { versionId, parts: [{ partNumber: 3, etag: 'e3' }] } })
      .then([])
  })

  it('refuses part numbers outside the plan', () => {
    versions
      .given([started])
      .when({ type: 'RecordParts', data: { versionId, parts: [{ partNumber: 4, etag: 'x' }] } })
      .thenThrows(ValidationError, /parts\/0\/partNumber: must be within 1..3/)
  })
})

const completionStarted: VersionEvent = {
  type: 'UploadCompletionStarted',
  data: { versionId, startedAt: now.toISOString() },
}

describe('version decider: completing', () => {
  it('claims the completion when every part is named as recorded, before S3 assembles it', () => {
    versions
      .given([started, partsRecorded])
      .when({ type: 'CompleteUpload', data: { versionId, parts: allParts, now } })
      .then([completionStarted])
    // A retry of a claimed completion checks the list again and carries on.
    versions
      .given([started, partsRecorded, completionStarted])
      .when({ type: 'CompleteUpload', data: { versionId, parts: allParts, now } })
      .then([])
    versions
      .given([started, partsRecorded, completionStarted])
      .when({ type: 'CompleteUpload', data: { versionId, parts: allParts.slice(1), now } })
      .thenThrows(ValidationError, /missing part\(s\) 3 of 3/)
  })

  it('completes once S3 assembled an object of the declared size', () => {
    versions
      .given([started, partsRecorded, completionStarted])
      .when({ type: 'RecordCompletion', data: { versionId, storedSize: 12 * MiB, now } })
      .then([completed])
    versions
      .given([started, partsRecorded, completionStarted, completed])
      .when({ type: 'RecordCompletion', data: { versionId, storedSize: 12 * MiB, now } })
      .then([])
    versions
      .given([started, partsRecorded])
      .when({ type: 'RecordCompletion', data: { versionId, storedSize: 12 * MiB, now } })
      .thenThrows(IllegalStateError, /not being completed/)
  })

  it('rejects at once, deleting the object, when S3 holds more bytes than declared', () => {
    const rejected = (size: number, message: RegExp) => {
      const events = decideVersion(
        { type: 'RecordCompletion', data: { versionId, storedSize: size, now } },
        [started, partsRecorded, completionStarted].reduce(
          versionDecider.evolve,
          versionDecider.initialState,
        ),
      )
      expect(events.map((e) => e.type)).toEqual(['UploadCompleted', 'VersionRejected'])
      expect(events[1]).toMatchObject({
        id: validationOutcomeEventId(versionId),
        data: {
          errors: [{ code: 'size_mismatch', message: expect.stringMatching(message) }],
          checksumMismatch: true,
          objectDeleted: true,
        },
      })
    }
    rejected(3 * 1024 * MiB, /has 3221225472 bytes but 12582912 were declared$/)
    rejected(12 * MiB + 1, /has 12582913 bytes but 12582912 were declared$/)
    // Fewer bytes: completed, for the validator to reject from the object's length.
    versions
      .given([started, partsRecorded, completionStarted])
      .when({ type: 'RecordCompletion', data: { versionId, storedSize: MiB, now } })
      .then([completed])
  })

  it('opens the upload again when S3 refuses the parts', () => {
    const refused: VersionEvent = {
      type: 'UploadCompletionRefused',
      data: { versionId, reason: 'InvalidPart', refusedAt: now.toISOString() },
    }
    versions
      .given([started, partsRecorded, completionStarted])
      .when({ type: 'RefuseCompletion', data: { versionId, reason: 'InvalidPart', now } })
      .then([refused])
    versions
      .given([started, partsRecorded, completionStarted, refused])
      .when({ type: 'RecordParts', data: { versionId, parts: [{ partNumber: 1, etag: 'e9' }] } })
      .then([
        {
          type: 'UploadPartsRecorded',
          data: { versionId, parts: [{ partNumber: 1, etag: 'e9' }] },
        },
      ])
  })

  it('refuses a missing, unrecorded or different part before S3 sees the list', () => {
    versions
      .given([started, partsRecorded])
      .when({ type: 'CompleteUpload', data: { versionId, parts: allParts.slice(1), now } })
      .thenThrows(ValidationError, /missing part\(s\) 3 of 3/)
    versions
      .given([started])
      .when({ type: 'CompleteUpload', data: { versionId, parts: allParts, now } })
      .thenThrows(ValidationError, /never recorded/)
    versions
      .given([started, partsRecorded])
      .when({
        type: 'CompleteUpload',
        data: { versionId, parts: [...allParts.slice(0, 2), { partNumber: 2, etag: 'zz' }], now },
      })
      .thenThrows(ValidationError, /part\(s\) 2 have a different ETag/)
    versions
      .given([started, partsRecorded])
      .when({
        type: 'CompleteUpload',
        data: { versionId, parts: [...allParts, { partNumber: 1, etag: 'e1' }], now },
      })
      .thenThrows(ValidationError, /listed twice/)
  })

  it('treats a retried complete as done and refuses completing an aborted upload', () => {
    versions
      .given([started, partsRecorded, completed])
      .when({ type: 'CompleteUpload', data: { versionId, parts: allParts, now } })
      .then([])
    versions
      .given([
        started,
        {
          type: 'UploadAborted',
          data: { versionId, reason: 'client', abortedAt: now.toISOString() },
        },
      ])
      .when({ type: 'CompleteUpload', data: { versionId, parts: allParts, now } })
      .thenThrows(IllegalStateError, /it was aborted/)
  })

  it('does not know an upload that never started', () => {
    versions
      .given([])
      .when({ type: 'CompleteUpload', data: { versionId, parts: allParts, now } })
      .thenThrows(NotFoundError)
  })
})

describe('version decider: aborting', () => {
  it('aborts an upload in progress once', () => {
    const aborted: VersionEvent = {
      type: 'UploadAborted',
      data: { versionId, reason: 'client', abortedAt: now.toISOString() },
    }
    versions
      .given([started])
      .when({ type: 'AbortUpload', data: { versionId, reason: 'client', now } })
      .then([aborted])
    versions
      .given([started, aborted])
      .when({ type: 'AbortUpload', data: { versionId, reason: 'client', now } })
      .then([])
    versions
      .given([started, partsRecorded, completed])
      .when({ type: 'AbortUpload', data: { versionId, reason: 'client', now } })
      .thenThrows(IllegalStateError, /VALIDATING/)
  })

  it('refuses to abort an upload whose completion was claimed, and takes no parts for it', () => {
    versions
      .given([started, partsRecorded, completionStarted])
      .when({ type: 'AbortUpload', data: { versionId, reason: 'client', now } })
      .thenThrows(IllegalStateError, /being completed: it can no longer be aborted/)
    versions
      .given([started, partsRecorded, completionStarted])
      .when({ type: 'RecordParts', data: { versionId, parts: [{ partNumber: 1, etag: 'e9' }] } })
      .thenThrows(IllegalStateError, /it is being completed/)
    // S3 no longer holding the multipart upload (its lifecycle rule) ends it as expired.
    versions
      .given([started, partsRecorded, completionStarted])
      .when({ type: 'AbortUpload', data: { versionId, reason: 'expired', now } })
      .then([
        {
          type: 'UploadAborted',
          data: { versionId, reason: 'expired', abortedAt: now.toISOString() },
        },
      ])
  })
})

describe('version decider: validation outcome', () => {
  const validated = {
    ok: true as const,
    rowCount: 2,
    size: 12 * MiB,
    sha256,
    columnCount: 1,
    schema: { inline: [{ name: 'a', type: 'integer' as const, nullable: false, widenings: [] }] },
    profile: {
      stored: {
        uri: `s3://argmax-datasets/datasets/${datasetId}/versions/${versionId}/profile.json`,
        sha256: 'cd'.repeat(32),
        size: 1234,
      },
    },
  }

  it('records VersionValidated with an id derived from the version', () => {
    versions
      .given([started, partsRecorded, completed])
      .when({ type: 'RecordValidation', data: { versionId, outcome: validated, now } })
      .then([
        {
          id: validationOutcomeEventId(versionId),
          type: 'VersionValidated',
          schemaVersion: 2,
          data: {
            versionId,
            datasetId,
            rowCount: 2,
            size: 12 * MiB,
            sha256,
            columnCount: 1,
            schema: validated.schema,
            profile: validated.profile,
            validatedAt: now.toISOString(),
          },
        },
      ])
  })

  it('records VersionRejected with the errors', () => {
    const errors = [
      { row: 3, column: 'b', code: 'ragged_row', message: 'expected 2 columns, got 3' },
    ]
    versions
      .given([started, partsRecorded, completed])
      .when({
        type: 'RecordValidation',
        data: {
          versionId,
          outcome: { ok: false, errors, checksumMismatch: false, objectDeleted: false },
          now,
        },
      })
      .then([
        {
          id: validationOutcomeEventId(versionId),
          type: 'VersionRejected',
          data: {
            versionId,
            datasetId,
            errors,
            checksumMismatch: false,
            objectDeleted: false,
            rejectedAt: now.toISOString(),
          },
        },
      ])
  })

  it('never records a second outcome', () => {
    const [first] = decideVersion(
      { type: 'RecordValidation', data: { versionId, outcome: validated, now } },
      [started, partsRecorded, completed].reduce(
        versionDecider.evolve,
        versionDecider.initialState,
      ),
    )
    versions
      .given([started, partsRecorded, completed, first!])
      .when({
        type: 'RecordValidation',
        data: {
          versionId,
          outcome: { ok: false, errors: [], checksumMismatch: true, objectDeleted: true },
          now,
        },
      })
      .then([])
  })

  it('refuses an outcome for an upload still in progress', () => {
    versions
      .given([started])
      .when({ type: 'RecordValidation', data: { versionId, outcome: validated, now } })
      .thenThrows(IllegalStateError, /UPLOADING/)
  })
})
