import { createHash } from 'node:crypto'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { s3Client } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDatasetAs,
  MiB,
  startHarness,
  uploadThroughApi,
  sha256Hex,
  waitForOutcome,
  type Harness,
  type VersionBody,
} from '../support/harness.ts'

type Profile = NonNullable<VersionBody['profile']>['columns'][number] & {
  topValues: Array<{ value: string; count: number }>
}

/** NATS's default `max_payload`, the test kit's too: no message, headers included, may exceed it. */
const NATS_MAX_PAYLOAD = 1024 * 1024

function csv(header: string[], rows: string[][]): Buffer {
  const line = (cells: string[]) => cells.join(',') + '\n'
  return Buffer.from(line(header) + rows.map(line).join(''))
}

/**
 * Files wide enough that their schema and profile do not fit in one NATS message: they end
 * VALIDATED all the same, their outcome event stays under the payload limit (the profile, and
 * the schema when large, are stored beside the file and referenced), and the REST answer still
 * has all of it.
 */
describe('wide files', () => {
  let h: Harness
  const s3 = s3Client()
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.stop())

  async function validate(name: string, bytes: Buffer) {
    const datasetId = await createDatasetAs(h, h.tokens.alice, name)
    const partSize = 5 * MiB
    const { versionId, position } = await uploadThroughApi(h, h.tokens.alice, datasetId, {
      fileName: `${name}.csv`,
      format: 'csv',
      size: bytes.length,
      sha256: sha256Hex(bytes),
      partSize,
      parts: function* () {
        for (let start = 0; start < bytes.length; start += partSize) {
          yield bytes.subarray(start, start + partSize)
        }
      },
    })
    const version = await waitForOutcome(h, h.tokens.alice, datasetId, versionId, position)
    return { datasetId, versionId, version }
  }

  /** The outcome event as JetStream holds it: its size on the wire and its data. */
  async function outcomeEvent(versionId: string) {
    const jsm = await h.service.nc.jetstreamManager()
    const message = await jsm.streams.getMessage(h.names.stream, {
      last_by_subj: `${h.names.root}.version.${versionId}`,
    })
    const headerBytes = message.header ? message.header.toString().length : 0
    const envelope = JSON.parse(new TextDecoder().decode(message.data)) as {
      type: string
      schemaVersion: number
      data: Record<string, unknown>
    }
    return { bytes: message.data.length + headerBytes, envelope }
  }

  async function storedJson(stored: { uri: string; sha256: string; size: number }) {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(stored.uri)!
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    const bytes = Buffer.from(await object.Body!.transformToByteArray())
    expect(bytes.length).toBe(stored.size)
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(stored.sha256)
    return JSON.parse(bytes.toString('utf8')) as unknown
  }

  function expectFullProfile(version: VersionBody, columns: number) {
    expect(version.status, JSON.stringify(version.errors)).toBe('VALIDATED')
    expect(version.schema).toHaveLength(columns)
    expect(version.profile!.columns).toHaveLength(columns)
  }

  it('1,000 numeric columns × 200 rows', async () => {
    const header = Array.from({ length: 1000 }, (_, c) => `feature_${c}`)
    const rows = Array.from({ length: 200 }, (_, r) =>
      header.map((_, c) => String(((r + 1) * (c + 7)) / 8)),
    )
    const { versionId, version } = await validate('numeric', csv(header, rows))
    expectFullProfile(version, 1000)
    expect(version.profile!.columns[999]!.numeric).toMatchObject({ min: 1006 / 8 })

    const { bytes, envelope } = await outcomeEvent(versionId)
    expect(bytes).toBeLessThan(NATS_MAX_PAYLOAD)
    expect(envelope).toMatchObject({ type: 'VersionValidated', schemaVersion: 2 })
    // What other contexts read: the column names and types inline, the profile by reference.
    const data = envelope.data as {
      columnCount: number
      schema: { inline?: Array<{ name: string; type: string }> }
      profile: { stored: { uri: string; sha256: string; size: number } }
    }
    expect(data.columnCount).toBe(1000)
    expect(data.schema.inline![0]).toMatchObject({ name: 'feature_0', type: 'float' })
    expect(data.profile.stored.size).toBeGreaterThan(NATS_MAX_PAYLOAD)
    expect(await storedJson(data.profile.stored)).toEqual(version.profile)
  })

  it('600 columns of long text', async () => {
    const header = Array.from({ length: 600 }, (_, c) => `text_${c}`)
    const rows = Array.from({ length: 40 }, (_, r) =>
      header.map((_, c) => `${r % 12}-${c}-${'lorem ipsum dolor sit amet '.repeat(9)}`),
    )
    const { versionId, version } = await validate('texts', csv(header, rows))
    expectFullProfile(version, 600)
    expect((version.profile!.columns[0] as Profile).topValues).toHaveLength(10)
    expect((await outcomeEvent(versionId)).bytes).toBeLessThan(NATS_MAX_PAYLOAD)
  })

  it('2,000 columns with 1,000-character names and long values: the schema by reference too', async () => {
    const header = Array.from(
      { length: 2000 },
      (_, c) => `${'é'.repeat(995)}${String(c).padStart(5, '0')}`,
    )
    const rows = Array.from({ length: 12 }, (_, r) =>
      header.map((_, c) => `${'v'.repeat(240)}${(c + r) % 11}`),
    )
    const { versionId, version } = await validate('widest', csv(header, rows))
    expectFullProfile(version, 2000)
    expect(version.schema![1999]!.name).toBe(header[1999])

    const { bytes, envelope } = await outcomeEvent(versionId)
    expect(bytes).toBeLessThan(NATS_MAX_PAYLOAD)
    const data = envelope.data as {
      schema: { stored: { uri: string; sha256: string; size: number } }
    }
    expect(await storedJson(data.schema.stored)).toEqual(version.schema)
  })

  it('a rejection naming huge columns is recorded in a bounded event', async () => {
    // Two columns of the same 3 MB name: the issue names it twice (column and message).
    const name = 'n'.repeat(3_000_000)
    const { versionId, version } = await validate('dupes', csv([name, name], [['1', '2']]))
    expect(version.status).toBe('REJECTED')
    expect(version.errors).toHaveLength(1)
    expect(version.errors[0]).toMatchObject({ code: 'duplicate_column', row: 1 })
    expect(version.errors[0]!.column!.length).toBeLessThan(300)
    expect(version.errors[0]!.message).toMatch(
      /^column "n{100}…" appears twice in the header \(fields 1 and 2\)$/,
    )
    expect((await outcomeEvent(versionId)).bytes).toBeLessThan(64 * 1024)
  })
})
