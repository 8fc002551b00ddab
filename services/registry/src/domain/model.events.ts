import type {
  ModelAliasRemovedData,
  ModelAliasSetData,
  ModelCreatedData,
  ModelDeletedData,
  ModelRestoredData,
  ModelTask,
  ModelVersionRegisteredData,
  StoredObject,
} from '@argmax/contracts'

/**
 * Events of the model aggregate, subject `registry.model.<name>`: the model itself, its versions,
 * their annotations and its aliases. One subject per model, so that the version numbers, the
 * exactly-once registration per training run and the aliases are all decided on one state with
 * one expected sequence. Releases live on `registry.release.<name>` (release.events.ts).
 *
 * `ModelCreated`, `ModelDeleted`, `ModelRestored`, `ModelVersionRegistered`, `ModelAliasSet` and
 * `ModelAliasRemoved` are the published language (`@argmax/contracts`' registry-events.ts); the
 * others are the registry's own, and other contexts following the subject ignore them.
 */
export interface ModelCreated {
  type: 'ModelCreated'
  data: ModelCreatedData & {
    /**
     * Under an `Idempotency-Key`: the key's id (caller + scope + key) and the canonical
     * request's SHA-256, so a retry is answered and another request under the key refused.
     */
    idempotencyId?: string
    requestHash?: string
    /** The training run whose queueing created it (origin `training`). */
    runId?: string
  }
}

export interface ModelUpdated {
  type: 'ModelUpdated'
  /** Only the fields that changed. */
  data: {
    model: string
    description?: string
    tags?: string[]
    task?: ModelTask
    updatedAt: string
  }
}

export interface ModelDeleted {
  type: 'ModelDeleted'
  data: ModelDeletedData
}

export interface ModelRestored {
  type: 'ModelRestored'
  data: ModelRestoredData
}

export interface ModelPurged {
  type: 'ModelPurged'
  data: {
    model: string
    purgedAt: string
    /** The versions whose artifacts were deleted. */
    versions: number[]
    objectsDeleted: number
  }
}

/** Where a version came from: a training run's attempt, or a manual upload. */
export type VersionSource =
  ModelVersionRegisteredData['source'] | { kind: 'upload'; uploadId: string }

export interface ModelVersionRegistered {
  type: 'ModelVersionRegistered'
  data: Omit<ModelVersionRegisteredData, 'source'> & {
    source: VersionSource
    /**
     * Every object the version owns, by name (`model`, `signature`, `metrics`, `native`,
     * `predictionsSample`, `reproducibility`, `log` from a run): what the purge deletes.
     */
    artifacts: Record<string, StoredObject>
    description?: string
    /** Set when the run's parameters were over MAX_INLINE_PARAMS_BYTES and left out. */
    paramsOmitted?: boolean
  }
}

/**
 * A training run that ended READY was not registered: the model belongs to someone else than
 * the run's owner, or it is deleted. Recorded once per run, like a registration, so the run is
 * decided exactly once and an operator can see why it has no version.
 */
export interface ModelVersionRegistrationRefused {
  type: 'ModelVersionRegistrationRefused'
  data: {
    model: string
    runId: string
    attempt: number
    /** The run's owner. */
    ownerId: string
    reason: 'not_owner' | 'model_deleted' | 'signature_unreadable'
    message: string
    refusedAt: string
  }
}

export interface ModelVersionAnnotated {
  type: 'ModelVersionAnnotated'
  data: {
    model: string
    version: number
    annotationId: string
    /** e.g. `note`, `rollout-verdict`, `evaluation` */
    kind: string
    text: string
    data?: Record<string, unknown>
    annotatedAt: string
    /** SHA-256 of the request under an `Idempotency-Key` (its id then derives from the key). */
    requestHash?: string
  }
}

export interface ModelVersionDeleted {
  type: 'ModelVersionDeleted'
  data: { model: string; version: number; deletedAt: string }
}

export interface ModelVersionRestored {
  type: 'ModelVersionRestored'
  data: {
    model: string
    version: number
    restoredAt: string
    /** Why: `user`, or `served` when a release changed concurrently with its deletion. */
    reason: 'user' | 'served'
  }
}

export interface ModelVersionPurged {
  type: 'ModelVersionPurged'
  data: { model: string; version: number; purgedAt: string; objectsDeleted: number }
}

export interface ModelAliasSet {
  type: 'ModelAliasSet'
  data: ModelAliasSetData
}

export interface ModelAliasRemoved {
  type: 'ModelAliasRemoved'
  data: ModelAliasRemovedData
}

export type ModelEvent = (
  | ModelCreated
  | ModelUpdated
  | ModelDeleted
  | ModelRestored
  | ModelPurged
  | ModelVersionRegistered
  | ModelVersionRegistrationRefused
  | ModelVersionAnnotated
  | ModelVersionDeleted
  | ModelVersionRestored
  | ModelVersionPurged
  | ModelAliasSet
  | ModelAliasRemoved
) & { id?: string }

export const MODEL_EVENT_TYPES = [
  'ModelCreated',
  'ModelUpdated',
  'ModelDeleted',
  'ModelRestored',
  'ModelPurged',
  'ModelVersionRegistered',
  'ModelVersionRegistrationRefused',
  'ModelVersionAnnotated',
  'ModelVersionDeleted',
  'ModelVersionRestored',
  'ModelVersionPurged',
  'ModelAliasSet',
  'ModelAliasRemoved',
] as const satisfies ReadonlyArray<ModelEvent['type']>
