/**
 * Events of the dataset aggregate, subject `dataset.dataset.<datasetId>`. A dataset is the
 * named, owned container; its files arrive as versions (see version.events.ts), which live on
 * their own subjects so that parallel part uploads of one version never contend with edits
 * of the dataset or with other versions.
 */
export interface DatasetCreated {
  type: 'DatasetCreated'
  data: {
    datasetId: string
    name: string
    description: string
    tags: string[]
    ownerId: string
    createdAt: string
    /**
     * SHA-256 of the canonical request, when it was created under an `Idempotency-Key` (its id
     * then derives from the key): a retry with the same request is answered, another refused.
     * Absent from events written without a key, and from every event before keys existed.
     */
    requestHash?: string
  }
}

export interface DatasetUpdated {
  type: 'DatasetUpdated'
  /** Only the fields that changed. */
  data: {
    datasetId: string
    name?: string
    description?: string
    tags?: string[]
    updatedAt: string
  }
}

export interface DatasetDeleted {
  type: 'DatasetDeleted'
  data: { datasetId: string; deletedAt: string }
}

export interface DatasetPurged {
  type: 'DatasetPurged'
  data: {
    datasetId: string
    purgedAt: string
    /** The versions whose files and rows were removed. */
    versionIds: string[]
    objectsDeleted: number
  }
}

export type DatasetEvent = (DatasetCreated | DatasetUpdated | DatasetDeleted | DatasetPurged) & {
  /** Set when the event must be idempotent across retries (JetStream dedups on it). */
  id?: string
}

export const DATASET_EVENT_TYPES = [
  'DatasetCreated',
  'DatasetUpdated',
  'DatasetDeleted',
  'DatasetPurged',
] as const satisfies ReadonlyArray<DatasetEvent['type']>
