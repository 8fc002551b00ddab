import { createEventStore, ensureStreams } from '@argmax/events'
import { connectNats, createPool, stackEndpoints } from '@argmax/testkit'
import {
  DATASET_STREAM_NAMES,
  datasetStreamSpec,
  datasetSubject,
  type DatasetEvent,
} from '@argmax/dataset-service'
import { describe, expect, it } from 'vitest'
import { createProgram } from '../src/program.ts'

// The only test that uses the dataset service's real stream and schema names: the command
// under test rebuilds exactly those.
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
