import { IllegalStateError, NotFoundError } from '@argmax/errors'
import { isRepeatedCreate, type AggregateDecider } from '@argmax/events'
import { assertValidDatasetFields, normaliseTags } from './dataset-fields.ts'
import { DATASET_EVENT_TYPES, type DatasetCreated, type DatasetEvent } from './dataset.events.ts'

export type DatasetState =
  | { status: 'absent' }
  | (DatasetCreated['data'] & {
      status: 'active' | 'deleted' | 'purged'
      deletedAt: string | null
    })

export const initialDatasetState: DatasetState = { status: 'absent' }

export type DatasetCommand =
  | {
      type: 'CreateDataset'
      data: {
        datasetId: string
        name: string
        description: string
        tags: string[]
        ownerId: string
        now: Date
        /** Set when created under an Idempotency-Key (see DatasetCreated). */
        requestHash?: string
      }
    }
  | {
      type: 'UpdateDataset'
      data: {
        datasetId: string
        name?: string
        description?: string
        tags?: string[]
        now: Date
      }
    }
  | { type: 'DeleteDataset'; data: { datasetId: string; now: Date } }
  | {
      type: 'PurgeDataset'
      data: {
        datasetId: string
        now: Date
        retentionMs: number
        versionIds: string[]
        objectsDeleted: number
      }
    }

export function evolveDataset(state: DatasetState, event: DatasetEvent): DatasetState {
  switch (event.type) {
    case 'DatasetCreated':
      return { status: 'active', ...event.data, deletedAt: null }
    case 'DatasetUpdated': {
      if (state.status === 'absent') return state
      const { name, description, tags } = event.data
      return {
        ...state,
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(tags !== undefined ? { tags } : {}),
      }
    }
    case 'DatasetDeleted':
      if (state.status === 'absent') return state
      return { ...state, status: 'deleted', deletedAt: event.data.deletedAt }
    case 'DatasetPurged':
      if (state.status === 'absent') return state
      return { ...state, status: 'purged' }
    default: {
      const unknownEvent: never = event
      return unknownEvent
    }
  }
}

export function decideDataset(command: DatasetCommand, state: DatasetState): DatasetEvent[] {
  switch (command.type) {
    case 'CreateDataset': {
      if (state.status !== 'absent') {
        // The same request again under the same key: already created, nothing to record.
        if (isRepeatedCreate(state.requestHash, command.data.requestHash)) return []
        throw new IllegalStateError(`dataset ${command.data.datasetId} already exists`)
      }
      const { datasetId, name, description, tags, ownerId, now, requestHash } = command.data
      assertValidDatasetFields({ name, description, tags })
      return [
        {
          type: 'DatasetCreated',
          data: {
            datasetId,
            name: name.trim(),
            description,
            tags: normaliseTags(tags),
            ownerId,
            createdAt: now.toISOString(),
            ...(requestHash !== undefined ? { requestHash } : {}),
          },
        },
      ]
    }
    case 'UpdateDataset': {
      const { now, datasetId, ...fields } = command.data
      const current = requireActive(state, datasetId, 'update')
      assertValidDatasetFields(fields)
      const changes: { name?: string; description?: string; tags?: string[] } = {}
      if (fields.name !== undefined && fields.name.trim() !== current.name) {
        changes.name = fields.name.trim()
      }
      if (fields.description !== undefined && fields.description !== current.description) {
        changes.description = fields.description
      }
      if (fields.tags !== undefined) {
        const tags = normaliseTags(fields.tags)
        if (tags.join('\n') !== current.tags.join('\n')) changes.tags = tags
      }
      // Nothing changed: nothing to record, and the PATCH stays idempotent.
      if (Object.keys(changes).length === 0) return []
      return [
        {
          type: 'DatasetUpdated',
          data: { datasetId: current.datasetId, ...changes, updatedAt: now.toISOString() },
        },
      ]
    }
    case 'DeleteDataset': {
      if (state.status === 'absent' || state.status === 'purged') {
        throw new NotFoundError('dataset', command.data.datasetId)
      }
      // Deleting twice is a no-op: the first deletedAt (and so the purge date) stands.
      if (state.status === 'deleted') return []
      return [
        {
          type: 'DatasetDeleted',
          data: { datasetId: state.datasetId, deletedAt: command.data.now.toISOString() },
        },
      ]
    }
    case 'PurgeDataset': {
      if (state.status === 'purged') return []
      if (state.status === 'absent') throw new NotFoundError('dataset', command.data.datasetId)
      if (state.status !== 'deleted' || state.deletedAt === null) {
        throw new IllegalStateError('only a deleted dataset can be purged')
      }
      const { now, retentionMs, versionIds, objectsDeleted } = command.data
      const purgeableFrom = Date.parse(state.deletedAt) + retentionMs
      if (now.getTime() < purgeableFrom) {
        throw new IllegalStateError(
          `dataset ${state.datasetId} is kept until ${new Date(purgeableFrom).toISOString()}`,
        )
      }
      return [
        {
          type: 'DatasetPurged',
          data: {
            datasetId: state.datasetId,
            purgedAt: now.toISOString(),
            versionIds: [...versionIds].sort(),
            objectsDeleted,
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

type ExistingDataset = Exclude<DatasetState, { status: 'absent' }>

function requireActive(state: DatasetState, datasetId: string, action: string): ExistingDataset {
  if (state.status === 'absent' || state.status === 'purged') {
    throw new NotFoundError('dataset', datasetId)
  }
  if (state.status === 'deleted') {
    throw new IllegalStateError(`cannot ${action} dataset ${state.datasetId}: it is deleted`)
  }
  return state
}

/** Whether new versions may be added: only to an active dataset. */
export function assertAcceptsUploads(state: DatasetState, datasetId: string): ExistingDataset {
  if (state.status === 'absent' || state.status === 'purged') {
    throw new NotFoundError('dataset', datasetId)
  }
  if (state.status === 'deleted') {
    throw new IllegalStateError(`dataset ${datasetId} is deleted: it accepts no uploads`)
  }
  return state
}

export const datasetDecider = {
  decide: decideDataset,
  evolve: evolveDataset,
  initialState: initialDatasetState,
  eventTypes: DATASET_EVENT_TYPES,
} satisfies AggregateDecider<DatasetCommand, DatasetEvent, DatasetState>
