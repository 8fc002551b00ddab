import { createEventStore, ensureStreams } from '@argmax/events'
import { putStoredObject } from '@argmax/storage'
import { connectNats, createPool, freshBucket, stackEndpoints } from '@argmax/testkit'
import {
  DATASET_STREAM_NAMES,
  datasetStreamSpec,
  datasetSubject,
  versionSubject,
  type DatasetEvent,
  type VersionEvent,
} from '@argmax/dataset-service'
import {
  TRAINING_STREAM_NAMES,
  quotaSubject,
  trainingStreamSpecs,
  type QuotaEvent,
} from '@argmax/training-service'
import { describe, expect, it } from 'vitest'
import { createProgram } from '../src/program.ts'

// The only test that uses the dataset and training services' real stream and schema names: the
// command under test rebuilds exactly those.
describe('argmax projections rebuild', () => {
  it('replays the dataset stream into the catalog, even on an empty schema', async () => {
    const { natsUrl, postgresUrl } = stackEndpoints()
    const nc = await connectNats()
    await ensureStreams(await nc.jetstreamManager(), [datasetStreamSpec(DATASET_STREAM_NAMES, 1)])
    const datasetId = '0190a5c8-0000-7000-8000-0000000000aa'
    const created: DatasetEvent = {
      type: 'DatasetCreated',
      data: {
        datasetId,
        name: 'movies',
        description: 'rebuilt',
        tags: ['demo'],
        ownerId: 'alice',
        createdAt: '2026-11-23T00:00:00.000Z',
      },
    }
    await createEventStore({ nc }).append(
      datasetSubject(DATASET_STREAM_NAMES, datasetId),
      [created],
      {
        expectedLastSubjectSequence: 0,
        meta: { actor: 'alice' },
      },
    )

    const urls = ['--nats-url', natsUrl, '--postgres-url', postgresUrl]
    const rebuild = [
      'node',
      'argmax',
      'projections',
      'rebuild',
      'dataset',
      'dataset-catalog',
      ...urls,
    ]
    await createProgram().parseAsync(rebuild)
    const pool = createPool(1)
    const { rows } = await pool.query('select id, name, owner_id from dataset.datasets')
    expect(rows).toEqual([{ id: datasetId, name: 'movies', owner_id: 'alice' }])

    // Twice gives the same table: the rebuild empties it first.
    await createProgram().parseAsync(rebuild)
    expect((await pool.query('select count(*)::int as n from dataset.datasets')).rows[0].n).toBe(1)
  })

  it("loads a validated version's stored profile from S3 while it replays", async () => {
    const { natsUrl, postgresUrl, s3: endpoint } = stackEndpoints()
    const nc = await connectNats()
    const store = createEventStore({ nc })
    const { bucket, s3 } = await freshBucket('rebuild')
    const datasetId = '0190a5c8-0000-7000-8000-0000000000bb'
    const versionId = '0190a5c8-0000-7000-8000-0000000000bc'
    const profile = { rowCount: 2, columns: [] }
    const stored = await putStoredObject(s3, {
      bucket,
      key: `datasets/${datasetId}/versions/${versionId}/profile.json`,
      body: Buffer.from(JSON.stringify(profile)),
    })
    const at = '2026-11-23T00:00:00.000Z'
    const subject = versionSubject(DATASET_STREAM_NAMES, versionId)
    const history: VersionEvent[] = [
      {
        type: 'UploadStarted',
        data: {
          versionId,
          datasetId,
          ownerId: 'alice',
          fileName: 'a.csv',
          format: 'csv',
          size: 8,
          sha256: 'a'.repeat(64),
          partSize: 5 * 1024 * 1024,
          partCount: 1,
          bucket,
          objectKey: `datasets/${datasetId}/versions/${versionId}/data.csv`,
          s3UploadId: 'u',
          startedAt: at,
        },
      },
      {
        type: 'VersionValidated',
        schemaVersion: 2,
        data: {
          versionId,
          datasetId,
          rowCount: 2,
          size: 8,
          sha256: 'a'.repeat(64),
          columnCount: 0,
          schema: { inline: [] },
          profile: { stored },
          validatedAt: at,
        },
      },
    ]
    await store.append(subject, history, {
      expectedLastSubjectSequence: 0,
      meta: { actor: 'alice' },
    })
    const env = {
      ARGMAX_S3_ENDPOINT: endpoint.endpoint,
      ARGMAX_S3_REGION: endpoint.region,
      ARGMAX_S3_ACCESS_KEY_ID: endpoint.accessKeyId,
      ARGMAX_S3_SECRET_ACCESS_KEY: endpoint.secretAccessKey,
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
    }
    // Set for the command, then put back as they were: the next file shares this process.
    const previous = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]))
    Object.assign(process.env, env)
    try {
      await createProgram().parseAsync([
        'node',
        'argmax',
        'projections',
        'rebuild',
        'dataset',
        'dataset-catalog',
        '--nats-url',
        natsUrl,
        '--postgres-url',
        postgresUrl,
      ])
    } finally {
      for (const [name, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    }
    const pool = createPool(1)
    const { rows } = await pool.query(
      'select profile from dataset.dataset_versions where id = $1',
      [versionId],
    )
    expect(rows).toEqual([{ profile }])
  })

  it("rebuilds the training service's read models too (training-quotas)", async () => {
    const { natsUrl, postgresUrl } = stackEndpoints()
    const nc = await connectNats()
    await ensureStreams(
      await nc.jetstreamManager(),
      trainingStreamSpecs(TRAINING_STREAM_NAMES, 1, 7),
    )
    const override: QuotaEvent = {
      type: 'QuotaOverrideSet',
      data: {
        userId: 'carol',
        override: { concurrent: 3 },
        by: 'root',
        setAt: '2026-11-23T00:00:00.000Z',
      },
    }
    await createEventStore({ nc }).append(
      quotaSubject(TRAINING_STREAM_NAMES, 'carol'),
      [override],
      {
        expectedLastSubjectSequence: 0,
        meta: { actor: 'root' },
      },
    )

    await createProgram().parseAsync([
      'node',
      'argmax',
      'projections',
      'rebuild',
      'training',
      'training-quotas',
      '--nats-url',
      natsUrl,
      '--postgres-url',
      postgresUrl,
    ])
    const pool = createPool(1)
    const { rows } = await pool.query(
      'select user_id, override, set_by from training.quota_overrides',
    )
    expect(rows).toEqual([{ user_id: 'carol', override: { concurrent: 3 }, set_by: 'root' }])
  })

  it('names the projections a service has when asked for one it lacks', async () => {
    const { natsUrl, postgresUrl } = stackEndpoints()
    const program = createProgram().exitOverride()
    await expect(
      program.parseAsync([
        'node',
        'argmax',
        'projections',
        'rebuild',
        'dataset',
        'nope',
        '--nats-url',
        natsUrl,
        '--postgres-url',
        postgresUrl,
      ]),
    ).rejects.toThrow(/has no projection 'nope' \(it has: dataset-catalog\)/)
  })
})
