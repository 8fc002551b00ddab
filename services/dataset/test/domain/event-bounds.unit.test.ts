import { encodeEnvelope, type EventEnvelope } from '@argmax/events'
import { MAX_DESCRIPTION_LENGTH, MAX_TAGS, type DatasetColumnSchema } from '@argmax/contracts'
import { describe, expect, it } from 'vitest'
import {
  datasetDecider,
  decideDataset,
  MAX_NAME_LENGTH,
  MAX_UPLOAD_BYTES,
  MAX_EVENT_DATA_BYTES,
  MAX_INLINE_SCHEMA_BYTES,
  MAX_ISSUE_COLUMN_CHARS,
  MAX_RECORDED_ISSUES,
  NATS_MAX_PAYLOAD_BYTES,
  cutText,
  decideVersion,
  jsonByteLength,
  versionDecider,
  type VersionEvent,
  type VersionIssue,
} from '../../src/domain/index.ts'

/** The longest ids the API accepts (`[A-Za-z0-9_-]{1,64}`) and names a deployment may pick. */
const versionId = 'v'.repeat(64)
const datasetId = 'd'.repeat(64)
const now = new Date('2026-12-01T00:00:00.000Z')

/**
 * The largest message an event can become: its envelope with the largest values each field can
 * hold — an actor of 16 KiB (the JWT subject arrives in an HTTP header, which Node caps at 16 KiB
 * in all), long stream and subject names — plus headers: `Nats-Msg-Id`, the expected sequence
 * and a 512-character `tracestate` (the W3C limit), 1 KiB in all.
 */
function wireBytes(event: VersionEvent): number {
  const envelope: EventEnvelope = {
    id: '0190a5c8-0000-7000-8000-000000000001',
    type: event.type,
    schemaVersion: event.schemaVersion ?? 1,
    stream: 'S'.repeat(255),
    subject: `${'r'.repeat(64)}.version.${versionId}`,
    occurredAt: now.toISOString(),
    actor: 'a'.repeat(16 * 1024),
    correlationId: '0190a5c8-0000-7000-8000-000000000002',
    causationId: '0190a5c8-0000-7000-8000-000000000003',
    data: event.data,
  }
  return encodeEnvelope(envelope).length + 1024
}

const validating: VersionEvent[] = [
  {
    type: 'UploadStarted',
    data: {
      versionId,
      datasetId,
      ownerId: 'alice',
      fileName: 'wide.csv',
      format: 'csv',
      size: 1000,
      sha256: 'ab'.repeat(32),
      partSize: 5 * 1024 * 1024,
      partCount: 1,
      bucket: 'b'.repeat(63),
      objectKey: `datasets/${datasetId}/versions/${versionId}/data.csv`,
      s3UploadId: 'u'.repeat(200),
      startedAt: now.toISOString(),
    },
  },
  { type: 'UploadCompletionStarted', data: { versionId, startedAt: now.toISOString() } },
  {
    type: 'UploadCompleted',
    data: {
      versionId,
      datasetId,
      bucket: 'b'.repeat(63),
      objectKey: `datasets/${datasetId}/versions/${versionId}/data.csv`,
      format: 'csv',
      size: 1000,
      sha256: 'ab'.repeat(32),
      partCount: 1,
      completedAt: now.toISOString(),
    },
  },
]
const state = validating.reduce(versionDecider.evolve, versionDecider.initialState)

/** JSON's most expensive character: a control character is written as `\u001f`, 6 bytes. */
const worst = (length: number) => '\u001f'.repeat(length)

const stored = (document: string) => ({
  uri: `s3://${'b'.repeat(63)}/datasets/${datasetId}/versions/${versionId}/${document}.json`,
  sha256: 'ef'.repeat(32),
  size: 64 * 1024 * 1024,
})

describe('every event fits one NATS message (1 MiB), by construction', () => {
  it('VersionValidated: a schema as large as may be inline, the profile stored', () => {
    // 2,000 columns whose schema takes the inline limit, to within one character per name.
    const columns = (name: string): DatasetColumnSchema[] =>
      Array.from({ length: 2000 }, () => ({ name, type: 'string', nullable: true, widenings: [] }))
    const overhead = jsonByteLength(columns(''))
    const schema = columns(worst(Math.floor((MAX_INLINE_SCHEMA_BYTES - overhead) / 2000 / 6)))
    expect(jsonByteLength(schema)).toBeLessThanOrEqual(MAX_INLINE_SCHEMA_BYTES)
    expect(jsonByteLength(schema)).toBeGreaterThan(MAX_INLINE_SCHEMA_BYTES - 2000 * 6)
    const [event] = decideVersion(
      {
        type: 'RecordValidation',
        data: {
          versionId,
          now,
          outcome: {
            ok: true,
            rowCount: Number.MAX_SAFE_INTEGER,
            size: Number.MAX_SAFE_INTEGER,
            sha256: 'ab'.repeat(32),
            columnCount: 2000,
            schema: { inline: schema },
            profile: { stored: stored('profile') },
          },
        },
      },
      state,
    )
    expect(event!.type).toBe('VersionValidated')
    const bytes = wireBytes(event!)
    expect(bytes).toBeLessThan(NATS_MAX_PAYLOAD_BYTES)
    // The figure the README gives: at most about 280 KiB.
    expect(bytes).toBeLessThan(280 * 1024)
  })

  it('VersionValidated with both documents stored takes about 1 KiB of data', () => {
    const [event] = decideVersion(
      {
        type: 'RecordValidation',
        data: {
          versionId,
          now,
          outcome: {
            ok: true,
            rowCount: 1,
            size: 1,
            sha256: 'ab'.repeat(32),
            columnCount: 2000,
            schema: { stored: stored('schema') },
            profile: { stored: stored('profile') },
          },
        },
      },
      state,
    )
    expect(jsonByteLength(event!.data)).toBeLessThan(1024)
  })

  it('VersionRejected: any number of issues of any length is cut to a bounded list', () => {
    // What a hostile file could make the validator say: names of megabytes, endless messages.
    const issues: VersionIssue[] = Array.from({ length: 10_000 }, (_, i) => ({
      row: Number.MAX_SAFE_INTEGER,
      column: worst(1_000_000),
      code: worst(1_000),
      message: worst(1_000_000) + i,
    }))
    const [event] = decideVersion(
      {
        type: 'RecordValidation',
        data: {
          versionId,
          now,
          outcome: { ok: false, errors: issues, checksumMismatch: true, objectDeleted: true },
        },
      },
      state,
    )
    const data = event!.data as { errors: VersionIssue[] }
    expect(data.errors).toHaveLength(MAX_RECORDED_ISSUES)
    expect(data.errors[0]!.column).toHaveLength(MAX_ISSUE_COLUMN_CHARS)
    expect(jsonByteLength(data)).toBeLessThan(MAX_EVENT_DATA_BYTES)
    const bytes = wireBytes(event!)
    expect(bytes).toBeLessThan(NATS_MAX_PAYLOAD_BYTES)
    // The figure the README gives: at most about 410 KiB.
    expect(bytes).toBeLessThan(410 * 1024)
  })

  it('refuses to record a validated outcome over the budget: REJECTED, outcome_too_large', () => {
    const schema: DatasetColumnSchema[] = Array.from({ length: 2000 }, () => ({
      name: worst(100),
      type: 'string',
      nullable: true,
      widenings: [],
    }))
    const [event] = decideVersion(
      {
        type: 'RecordValidation',
        data: {
          versionId,
          now,
          outcome: {
            ok: true,
            rowCount: 1,
            size: 1,
            sha256: 'ab'.repeat(32),
            columnCount: 2000,
            // A caller that forgot to store a large schema.
            schema: { inline: schema },
            profile: { stored: stored('profile') },
          },
        },
      },
      state,
    )
    expect(event).toMatchObject({
      type: 'VersionRejected',
      data: { errors: [{ code: 'outcome_too_large' }], objectDeleted: false },
    })
    expect(wireBytes(event!)).toBeLessThan(64 * 1024)
  })

  it('UploadPartsRecorded: 10,000 parts with the longest ETags become several events, each small', () => {
    const started = {
      ...(validating[0]!.data as Record<string, unknown>),
      size: 10_000 * 5 * 1024 * 1024,
      partCount: 10_000,
    }
    const uploading = versionDecider.evolve(versionDecider.initialState, {
      type: 'UploadStarted',
      data: started,
    } as VersionEvent)
    const parts = Array.from({ length: 10_000 }, (_, i) => ({
      partNumber: i + 1,
      etag: worst(200),
    }))
    const events = decideVersion({ type: 'RecordParts', data: { versionId, parts } }, uploading)
    expect(events.length).toBe(50)
    expect(events.flatMap((e) => (e.data as { parts: unknown[] }).parts)).toHaveLength(10_000)
    for (const event of events) expect(wireBytes(event)).toBeLessThan(300 * 1024)
    // An ETag longer than the API allows is refused, not recorded.
    expect(() =>
      decideVersion(
        {
          type: 'RecordParts',
          data: { versionId, parts: [{ partNumber: 1, etag: 'e'.repeat(201) }] },
        },
        uploading,
      ),
    ).toThrow(/parts\/0\/etag: must be at most 200 characters/)
  })

  it('the other events: bounded fields, well under 100 KiB', () => {
    const created = decideDataset(
      {
        type: 'CreateDataset',
        data: {
          datasetId,
          name: 'n'.repeat(MAX_NAME_LENGTH),
          description: worst(MAX_DESCRIPTION_LENGTH),
          tags: Array.from({ length: MAX_TAGS }, (_, i) => `${i}${'t'.repeat(62)}`.slice(0, 63)),
          ownerId: 'o'.repeat(16 * 1024),
          now,
          requestHash: 'ab'.repeat(32),
        },
      },
      datasetDecider.initialState,
    )
    const [upload] = decideVersion(
      {
        type: 'StartUpload',
        data: {
          versionId,
          datasetId,
          ownerId: 'o'.repeat(16 * 1024),
          request: {
            fileName: '\u00e9'.repeat(1024),
            size: MAX_UPLOAD_BYTES,
            sha256: 'ab'.repeat(32),
            format: 'jsonl',
            partSize: 5 * 1024 * 1024,
          },
          bucket: 'b'.repeat(63),
          s3UploadId: 'u'.repeat(1024),
          now,
          requestHash: 'ab'.repeat(32),
        },
      },
      versionDecider.initialState,
    )
    for (const event of [...created, upload!]) {
      expect(wireBytes(event as VersionEvent)).toBeLessThan(100 * 1024)
    }
  })

  it('cuts text without splitting a surrogate pair', () => {
    expect(cutText('abcdef', 4)).toBe('abc…')
    expect(cutText('ab😀cd', 4)).toBe('ab…')
    expect(cutText('abc', 4)).toBe('abc')
  })
})
