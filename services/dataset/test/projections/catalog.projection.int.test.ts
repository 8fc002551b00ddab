import type { RecordedEvent } from '@argmax/events'
import { createDatabase, migrateToLatest, silentLogger } from '@argmax/projections'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { putStoredObject, StoredObjectMismatchError } from '@argmax/storage'
import { freshBucket, s3Client, stackEndpoints, uniqueName } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonDocumentReader } from '../../src/application/json-documents.ts'
import { datasetUpcast, type DatasetEvent, type VersionEvent } from '../../src/domain/index.ts'
import {
  applyCatalogEvent,
  datasetMigrations,
  findDataset,
  findVersion,
  listDatasets,
  truncateCatalog,
  type DatasetDatabase,
} from '../../src/projections/index.ts'

const at = '2026-01-01T00:00:00.000Z'
let sequence = 0
function recorded(event: DatasetEvent | VersionEvent): RecordedEvent {
  sequence++
  return {
    id: `e${sequence}`,
    type: event.type,
    schemaVersion: ('schemaVersion' in event ? event.schemaVersion : undefined) ?? 1,
    stream: 'DATASET',
    subject: 'dataset.x',
    occurredAt: at,
    actor: 'alice',
    correlationId: 'c',
    causationId: null,
    data: event.data,
    sequence,
  }
}

/** An event as an older schema had it, which today's types no longer describe. */
function recordedV1(type: string, data: unknown): RecordedEvent {
  const placeholder = recorded({ type: 'DatasetDeleted', data: { datasetId: '', deletedAt: at } })
  return { ...placeholder, type, data }
}

const started = (versionId: string, datasetId: string): VersionEvent => ({
  type: 'UploadStarted',
  data: {
    versionId,
    datasetId,
    ownerId: 'alice',
    fileName: 'a.csv',
    format: 'csv',
    size: 3_000_000_000,
    sha256: 'c'.repeat(64),
    partSize: 8 * 1024 * 1024,
    partCount: 358,
    bucket: 'b',
    objectKey: `datasets/${datasetId}/versions/${versionId}/data.csv`,
    s3UploadId: 'u',
    startedAt: at,
  },
})

const history: RecordedEvent[] = [
  recorded({
    type: 'DatasetCreated',
    data: {
      datasetId: 'd1',
      name: 'one',
      description: '',
      tags: ['t'],
      ownerId: 'alice',
      createdAt: at,
    },
  }),
  recorded(started('v1', 'd1')),
  recorded({
    type: 'UploadPartsRecorded',
    data: { versionId: 'v1', parts: [{ partNumber: 1, etag: 'x' }] },
  }),
  recorded(started('v2', 'd1')),
  recorded({
    type: 'UploadCompleted',
    data: {
      versionId: 'v1',
      datasetId: 'd1',
      bucket: 'b',
      objectKey: 'k',
      format: 'csv',
      size: 3_000_000_000,
      sha256: 'c'.repeat(64),
      partCount: 358,
      completedAt: at,
    },
  }),
  // As recorded before schemaVersion 2 (schema and profile inline): upcast on read.
  recordedV1('VersionValidated', {
    versionId: 'v1',
    datasetId: 'd1',
    rowCount: 12,
    size: 3_000_000_000,
    sha256: 'c'.repeat(64),
    schema: [{ name: 'a', type: 'integer', nullable: false, widenings: [] }],
    profile: { rowCount: 12, columns: [] },
    validatedAt: at,
  }),
  recorded({ type: 'DatasetUpdated', data: { datasetId: 'd1', name: 'renamed', updatedAt: at } }),
  recorded({
    type: 'DatasetCreated',
    data: {
      datasetId: 'd2',
      name: 'two',
      description: '',
      tags: [],
      ownerId: 'bob',
      createdAt: at,
    },
  }),
  recorded({ type: 'DatasetDeleted', data: { datasetId: 'd2', deletedAt: at } }),
  recorded({
    type: 'DatasetPurged',
    data: { datasetId: 'd2', purgedAt: at, versionIds: [], objectsDeleted: 0 },
  }),
]

describe('the catalog projection', () => {
  let database: Awaited<ReturnType<typeof createDatabase<DatasetDatabase>>>
  beforeAll(async () => {
    const schema = uniqueName('catalog').toLowerCase()
    database = await createDatabase<DatasetDatabase>({
      connectionString: stackEndpoints().postgresUrl,
      schema,
      log: silentLogger,
    })
    await migrateToLatest(database.db, schema, datasetMigrations)
  })
  afterAll(() => database.destroy())

  async function apply(events: RecordedEvent[], readDocument = jsonDocumentReader(s3Client())) {
    await database.db.transaction().execute(async (trx) => {
      // What the runner does: upcast, then apply.
      for (const event of events) await applyCatalogEvent(trx, datasetUpcast(event), readDocument)
    })
  }

  async function dump() {
    return {
      datasets: await database.db.selectFrom('datasets').selectAll().orderBy('id').execute(),
      versions: await database.db
        .selectFrom('dataset_versions')
        .selectAll()
        .orderBy('id')
        .execute(),
      parts: await database.db
        .selectFrom('upload_parts')
        .selectAll()
        .orderBy('version_id')
        .execute(),
    }
  }

  it('applies a history, and the same history again, to the same rows', async () => {
    await apply(history)
    const once = await dump()
    await apply(history)
    expect(await dump()).toEqual(once)

    const d1 = await findDataset(database.db, 'd1')
    expect(d1).toMatchObject({ name: 'renamed', versionCount: 2, deletedAt: null })
    expect(await findDataset(database.db, 'd2')).toBeUndefined()
    const v1 = await findVersion(database.db, 'v1')
    expect(v1).toMatchObject({ number: 1, status: 'VALIDATED', rowCount: 12, size: 3_000_000_000 })
    // The old event's inline schema and profile, served as ever.
    expect(v1!.schema).toEqual([{ name: 'a', type: 'integer', nullable: false, widenings: [] }])
    expect(v1!.profile).toEqual({ rowCount: 12, columns: [] })
    expect(await findVersion(database.db, 'v2')).toMatchObject({ number: 2, status: 'UPLOADING' })
    expect(once.parts).toEqual([])
  })

  it('rebuilds to identical tables after truncation', async () => {
    const before = await dump()
    await database.db.transaction().execute((trx) => truncateCatalog(trx))
    await apply(history)
    expect(await dump()).toEqual(before)
  })

  it('loads a stored profile once, when it applies the event; one purged since is null', async () => {
    const { bucket, s3 } = await freshBucket('catalog')
    const profile = { rowCount: 5, columns: [] }
    const ref = await putStoredObject(s3, {
      bucket,
      key: 'datasets/d3/versions/v3/profile.json',
      body: Buffer.from(JSON.stringify(profile)),
    })
    const validated = (versionId: string, stored: typeof ref) =>
      recorded({
        type: 'VersionValidated',
        schemaVersion: 2,
        data: {
          versionId,
          datasetId: 'd1',
          rowCount: 5,
          size: 3_000_000_000,
          sha256: 'c'.repeat(64),
          columnCount: 0,
          schema: { inline: [] },
          profile: { stored },
          validatedAt: at,
        },
      })
    const gone = { ...ref, uri: `s3://${bucket}/datasets/d3/versions/v4/profile.json` }
    await apply([
      recorded(started('v3', 'd1')),
      validated('v3', ref),
      recorded(started('v4', 'd1')),
      validated('v4', gone),
    ])
    expect(await findVersion(database.db, 'v3')).toMatchObject({ status: 'VALIDATED', profile })
    expect(await findVersion(database.db, 'v4')).toMatchObject({
      status: 'VALIDATED',
      profile: null,
    })
    // Bytes that are not the ones referenced stop the projection: nothing is applied.
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'datasets/d3/versions/v3/profile.json',
        Body: '{}',
      }),
    )
    await expect(apply([recorded(started('v5', 'd1')), validated('v5', ref)])).rejects.toThrow(
      StoredObjectMismatchError,
    )
    expect(await findVersion(database.db, 'v5')).toBeUndefined()
  })

  it('lists by owner with keyset paging', async () => {
    const page = await listDatasets(database.db, { ownerId: 'alice', limit: 10 })
    expect(page.items.map((d) => d.id)).toEqual(['d1'])
    expect(page.nextCursor).toBeNull()
    expect((await listDatasets(database.db, { ownerId: 'bob', limit: 10 })).items).toEqual([])
  })
})
