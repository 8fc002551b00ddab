import {
  IdempotencyKeyReusedError,
  IllegalStateError,
  NotFoundError,
  ValidationError,
} from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import { datasetDecider, type DatasetEvent } from '../../src/domain/index.ts'
import { deciderSpec as spec } from '@argmax/events'

const now = new Date('2026-01-10T12:00:00.000Z')
const datasetId = '0190a5c8-0000-7000-8000-000000000001'
const DAY = 24 * 60 * 60 * 1000

const created: DatasetEvent = {
  type: 'DatasetCreated',
  data: {
    datasetId,
    name: 'movies',
    description: 'IMDB and Rotten Tomatoes ratings',
    tags: ['films', 'public'],
    ownerId: 'alice',
    createdAt: '2026-01-01T00:00:00.000Z',
  },
}
const deleted: DatasetEvent = {
  type: 'DatasetDeleted',
  data: { datasetId, deletedAt: '2026-01-02T00:00:00.000Z' },
}

const datasets = spec(datasetDecider)

describe('dataset decider', () => {
  it('creates a dataset with trimmed name and sorted, unique tags', () => {
    datasets
      .given([])
      .when({
        type: 'CreateDataset',
        data: {
          datasetId,
          name: '  movies ',
          description: '',
          tags: ['public', 'films', 'public'],
          ownerId: 'alice',
          now,
        },
      })
      .then([
        {
          type: 'DatasetCreated',
          data: {
            datasetId,
            name: 'movies',
            description: '',
            tags: ['films', 'public'],
            ownerId: 'alice',
            createdAt: now.toISOString(),
          },
        },
      ])
  })

  it('answers a create repeated under its key with nothing, and refuses another request', () => {
    const create = (requestHash?: string) => ({
      type: 'CreateDataset' as const,
      data: { ...created.data, now, ...(requestHash ? { requestHash } : {}) },
    })
    const [keyed] = datasetDecider.decide(create('h1'), datasetDecider.initialState)
    expect(keyed!.data).toMatchObject({ datasetId, requestHash: 'h1' })
    datasets.given([keyed!]).when(create('h1')).then([])
    datasets.given([keyed!]).when(create('h2')).thenThrows(IdempotencyKeyReusedError)
    // Events from before keys existed carry no hash: without a key, "already exists" as ever.
    datasets
      .given([created])
      .when(create())
      .thenThrows(IllegalStateError, /already exists/)
  })

  it('refuses a blank name and a malformed tag, naming the fields', () => {
    datasets
      .given([])
      .when({
        type: 'CreateDataset',
        data: {
          datasetId,
          name: ' ',
          description: '',
          tags: ['ok', 'no spaces'],
          ownerId: 'a',
          now,
        },
      })
      .thenThrows(ValidationError, /name: must not be blank; tags\/1/)
  })

  it('records only the fields an update changes, and nothing for a no-op', () => {
    datasets
      .given([created])
      .when({
        type: 'UpdateDataset',
        data: { datasetId, name: 'movies', description: 'new', tags: ['public', 'films'], now },
      })
      .then([
        {
          type: 'DatasetUpdated',
          data: { datasetId, description: 'new', updatedAt: now.toISOString() },
        },
      ])
    datasets
      .given([created])
      .when({ type: 'UpdateDataset', data: { datasetId, name: 'movies', now } })
      .then([])
  })

  it('refuses to update a deleted dataset and one that does not exist', () => {
    datasets
      .given([created, deleted])
      .when({ type: 'UpdateDataset', data: { datasetId, name: 'x', now } })
      .thenThrows(IllegalStateError, /deleted/)
    datasets
      .given([])
      .when({ type: 'UpdateDataset', data: { datasetId, name: 'x', now } })
      .thenThrows(NotFoundError)
  })

  it('soft-deletes once; deleting again keeps the first date', () => {
    datasets
      .given([created])
      .when({ type: 'DeleteDataset', data: { datasetId, now } })
      .then([{ type: 'DatasetDeleted', data: { datasetId, deletedAt: now.toISOString() } }])
    datasets
      .given([created, deleted])
      .when({ type: 'DeleteDataset', data: { datasetId, now } })
      .then([])
  })

  it('purges only a dataset deleted longer ago than the retention', () => {
    const purge = (at: Date) => ({
      type: 'PurgeDataset' as const,
      data: {
        datasetId,
        now: at,
        retentionMs: 90 * DAY,
        versionIds: ['v2', 'v1'],
        objectsDeleted: 2,
      },
    })
    const deletedAt = Date.parse(deleted.data.deletedAt)
    datasets
      .given([created, deleted])
      .when(purge(new Date(deletedAt + 89 * DAY)))
      .thenThrows(IllegalStateError, /kept until/)
    datasets
      .given([created])
      .when(purge(new Date(deletedAt + 91 * DAY)))
      .thenThrows(IllegalStateError, /only a deleted dataset/)
    const at = new Date(deletedAt + 90 * DAY)
    datasets
      .given([created, deleted])
      .when(purge(at))
      .then([
        {
          type: 'DatasetPurged',
          data: {
            datasetId,
            purgedAt: at.toISOString(),
            versionIds: ['v1', 'v2'],
            objectsDeleted: 2,
          },
        },
      ])
  })

  it('treats a purged dataset as gone', () => {
    const purged: DatasetEvent = {
      type: 'DatasetPurged',
      data: { datasetId, purgedAt: now.toISOString(), versionIds: [], objectsDeleted: 0 },
    }
    datasets
      .given([created, deleted, purged])
      .when({ type: 'DeleteDataset', data: { datasetId, now } })
      .thenThrows(NotFoundError)
  })
})
