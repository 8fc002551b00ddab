import type { ModelTask, StoredObject } from '@argmax/contracts'
import { IllegalStateError, NotFoundError, ValidationError } from '@argmax/errors'
import { isRepeatedCreate, type AggregateDecider } from '@argmax/events'
import { modelCreatedByRunEventId, sourceDecisionEventId } from './event-ids.ts'
import { isReservedAlias, MAX_ANNOTATION_TEXT } from './limits.ts'
import { assertAliasName, assertValidModelFields, normaliseTags } from './model-fields.ts'
import {
  MODEL_EVENT_TYPES,
  type ModelCreated,
  type ModelEvent,
  type ModelVersionRegistered,
  type ModelVersionRegistrationRefused,
  type VersionSource,
} from './model.events.ts'

export type ModelStatus = 'absent' | 'active' | 'deleted' | 'purged'

export interface VersionRecord {
  version: number
  status: 'active' | 'deleted' | 'purged'
  deletedAt: string | null
  task: ModelTask
  artifact: StoredObject
  signature: StoredObject
  artifacts: Record<string, StoredObject>
  source: VersionSource
  /** Annotation id → the SHA-256 of the request that made it (retries answer, not repeat). */
  annotations: Record<string, string | null>
}

export interface ModelInfo {
  model: string
  ownerId: string
  task: ModelTask | undefined
  description: string
  tags: string[]
  origin: 'user' | 'training'
  createdAt: string
  idempotencyId: string | undefined
  requestHash: string | undefined
}

/**
 * A model as its events tell it. Versions, the record of decided sources and the version
 * counter outlive a purge: numbers are never reused and a run is never decided twice, even if
 * the name is created again.
 */
export interface ModelState {
  status: ModelStatus
  info: ModelInfo | null
  deletedAt: string | null
  versions: Record<number, VersionRecord>
  nextVersion: number
  /** `run:<runId>` / `upload:<uploadId>` → the version it became, or `refused`. */
  sources: Record<string, number | 'refused'>
  aliases: Record<string, number>
}

export const initialModelState: ModelState = {
  status: 'absent',
  info: null,
  deletedAt: null,
  versions: {},
  nextVersion: 1,
  sources: {},
  aliases: {},
}

/** What a version is registered with, whatever its source. */
export interface VersionRegistration {
  task: ModelTask
  artifact: StoredObject
  signature: StoredObject
  artifacts: Record<string, StoredObject>
  metrics: Record<string, number>
  source: VersionSource
  lineage: ModelVersionRegistered['data']['lineage']
  trainer?: ModelVersionRegistered['data']['trainer']
  libraries?: Record<string, string>
  params?: Record<string, unknown>
  paramsOmitted?: boolean
  target?: string
  seed?: number
  description?: string
}

export type ModelCommand =
  | {
      type: 'CreateModel'
      data: {
        model: string
        ownerId: string
        description: string
        tags: string[]
        task?: ModelTask
        now: Date
        idempotencyId?: string
        requestHash?: string
      }
    }
  | {
      /** A run was queued for this name: the model is created for the run's owner if absent. */
      type: 'EnsureModelForRun'
      data: { model: string; runId: string; ownerId: string; task: ModelTask; now: Date }
    }
  | {
      type: 'UpdateModel'
      data: { model: string; description?: string; tags?: string[]; task?: ModelTask; now: Date }
    }
  | { type: 'DeleteModel'; data: { model: string; now: Date } }
  | { type: 'RestoreModel'; data: { model: string; now: Date } }
  | {
      type: 'PurgeModel'
      data: {
        model: string
        now: Date
        retentionMs: number
        versions: number[]
        objectsDeleted: number
      }
    }
  | {
      /**
       * A training run ended READY: one version per run, ever. Its owner must own the model
       * (created for them if absent), which must not be deleted; otherwise the refusal is
       * recorded instead, once.
       */
      type: 'RegisterRunVersion'
      data: {
        model: string
        runId: string
        attempt: number
        runOwnerId: string
        registration: VersionRegistration
        now: Date
      }
    }
  | {
      /** The run's signature could not be read or is not one: recorded as its one decision. */
      type: 'RefuseRunVersion'
      data: {
        model: string
        runId: string
        attempt: number
        runOwnerId: string
        task: ModelTask
        reason: ModelVersionRegistrationRefused['data']['reason']
        message: string
        now: Date
      }
    }
  | {
      /** A checked upload becomes a version, once per upload. */
      type: 'RegisterUploadedVersion'
      data: { model: string; uploadId: string; registration: VersionRegistration; now: Date }
    }
  | {
      type: 'AnnotateVersion'
      data: {
        model: string
        version: number
        annotationId: string
        kind: string
        text: string
        data?: Record<string, unknown>
        now: Date
        requestHash?: string
      }
    }
  | {
      type: 'DeleteVersion'
      data: {
        model: string
        version: number
        /** Versions the model's current release serves (stable, canary, shadow). */
        served: number[]
        now: Date
      }
    }
  | {
      type: 'RestoreVersion'
      data: { model: string; version: number; reason: 'user' | 'served'; now: Date }
    }
  | {
      type: 'PurgeVersion'
      data: {
        model: string
        version: number
        now: Date
        retentionMs: number
        objectsDeleted: number
      }
    }
  | { type: 'SetAlias'; data: { model: string; alias: string; version: number; now: Date } }
  | { type: 'RemoveAlias'; data: { model: string; alias: string; now: Date } }

export function evolveModel(state: ModelState, event: ModelEvent): ModelState {
  switch (event.type) {
    case 'ModelCreated': {
      const d = event.data
      return {
        ...state,
        status: 'active',
        deletedAt: null,
        info: {
          model: d.model,
          ownerId: d.ownerId,
          task: d.task,
          description: d.description,
          tags: d.tags,
          origin: d.origin,
          createdAt: d.createdAt,
          idempotencyId: d.idempotencyId,
          requestHash: d.requestHash,
        },
        // A name created again after a purge starts with no aliases.
        aliases: {},
      }
    }
    case 'ModelUpdated': {
      if (!state.info) return state
      const { description, tags, task } = event.data
      return {
        ...state,
        info: {
          ...state.info,
          ...(description !== undefined ? { description } : {}),
          ...(tags !== undefined ? { tags } : {}),
          ...(task !== undefined ? { task } : {}),
        },
      }
    }
    case 'ModelDeleted':
      return { ...state, status: 'deleted', deletedAt: event.data.deletedAt }
    case 'ModelRestored':
      return { ...state, status: 'active', deletedAt: null }
    case 'ModelPurged': {
      const versions = { ...state.versions }
      for (const v of Object.values(versions)) {
        versions[v.version] = { ...v, status: 'purged' }
      }
      return { ...state, status: 'purged', versions, aliases: {} }
    }
    case 'ModelVersionRegistered': {
      const d = event.data
      const key = sourceKeyOf(d.source)
      return {
        ...state,
        versions: {
          ...state.versions,
          [d.version]: {
            version: d.version,
            status: 'active',
            deletedAt: null,
            task: d.task,
            artifact: d.artifact,
            signature: d.signature,
            artifacts: d.artifacts,
            source: d.source,
            annotations: {},
          },
        },
        nextVersion: Math.max(state.nextVersion, d.version + 1),
        sources: key ? { ...state.sources, [key]: d.version } : state.sources,
      }
    }
    case 'ModelVersionRegistrationRefused':
      return { ...state, sources: { ...state.sources, [runKey(event.data.runId)]: 'refused' } }
    case 'ModelVersionAnnotated': {
      const v = state.versions[event.data.version]
      if (!v) return state
      return withVersion(state, {
        ...v,
        annotations: {
          ...v.annotations,
          [event.data.annotationId]: event.data.requestHash ?? null,
        },
      })
    }
    case 'ModelVersionDeleted': {
      const v = state.versions[event.data.version]
      if (!v) return state
      return withVersion(state, { ...v, status: 'deleted', deletedAt: event.data.deletedAt })
    }
    case 'ModelVersionRestored': {
      const v = state.versions[event.data.version]
      if (!v) return state
      return withVersion(state, { ...v, status: 'active', deletedAt: null })
    }
    case 'ModelVersionPurged': {
      const v = state.versions[event.data.version]
      if (!v) return state
      return withVersion(state, { ...v, status: 'purged' })
    }
    case 'ModelAliasSet':
      return { ...state, aliases: { ...state.aliases, [event.data.alias]: event.data.version } }
    case 'ModelAliasRemoved': {
      const { [event.data.alias]: _removed, ...aliases } = state.aliases
      return { ...state, aliases }
    }
    default: {
      const unknownEvent: never = event
      return unknownEvent
    }
  }
}

export function decideModel(command: ModelCommand, state: ModelState): ModelEvent[] {
  switch (command.type) {
    case 'CreateModel': {
      const d = command.data
      if (state.status === 'active' || state.status === 'deleted') {
        // The same key again: a retry (nothing to record) or a reused key (422).
        if (
          d.idempotencyId !== undefined &&
          state.info?.idempotencyId === d.idempotencyId &&
          isRepeatedCreate(state.info.requestHash, d.requestHash)
        ) {
          return []
        }
        throw new IllegalStateError(
          `model ${d.model} already exists${state.status === 'deleted' ? ' (deleted; it can be restored by its owner)' : ''}: model names are unique`,
        )
      }
      assertValidModelFields({ description: d.description, tags: d.tags })
      return [
        {
          type: 'ModelCreated',
          data: {
            model: d.model,
            ownerId: d.ownerId,
            ...(d.task !== undefined ? { task: d.task } : {}),
            description: d.description,
            tags: normaliseTags(d.tags),
            origin: 'user',
            createdAt: d.now.toISOString(),
            ...(d.idempotencyId !== undefined ? { idempotencyId: d.idempotencyId } : {}),
            ...(d.requestHash !== undefined ? { requestHash: d.requestHash } : {}),
          },
        },
      ]
    }
    case 'EnsureModelForRun': {
      const d = command.data
      // Whoever owns an existing name keeps it: a run queued by someone else changes nothing.
      if (state.status === 'active' || state.status === 'deleted') return []
      return [createdForRun(d.model, d.runId, d.ownerId, d.task, d.now)]
    }
    case 'UpdateModel': {
      const { model, now, ...fields } = command.data
      const info = requireActive(state, model, 'update')
      assertValidModelFields(fields)
      const changes: { description?: string; tags?: string[]; task?: ModelTask } = {}
      if (fields.description !== undefined && fields.description !== info.description) {
        changes.description = fields.description
      }
      if (fields.tags !== undefined) {
        const tags = normaliseTags(fields.tags)
        if (tags.join('\n') !== info.tags.join('\n')) changes.tags = tags
      }
      if (fields.task !== undefined && fields.task !== info.task) changes.task = fields.task
      if (Object.keys(changes).length === 0) return []
      return [{ type: 'ModelUpdated', data: { model, ...changes, updatedAt: now.toISOString() } }]
    }
    case 'DeleteModel': {
      const { model, now } = command.data
      requireExisting(state, model)
      // Deleting twice changes nothing: the first deletedAt (and so the purge date) stands.
      if (state.status === 'deleted') return []
      return [{ type: 'ModelDeleted', data: { model, deletedAt: now.toISOString() } }]
    }
    case 'RestoreModel': {
      const { model, now } = command.data
      requireExisting(state, model)
      if (state.status === 'active') return []
      return [{ type: 'ModelRestored', data: { model, restoredAt: now.toISOString() } }]
    }
    case 'PurgeModel': {
      const { model, now, retentionMs, versions, objectsDeleted } = command.data
      if (state.status === 'purged') return []
      requireExisting(state, model)
      if (state.status !== 'deleted' || state.deletedAt === null) {
        throw new IllegalStateError(`only a deleted model can be purged; ${model} is not deleted`)
      }
      assertRetentionOver(`model ${model}`, state.deletedAt, retentionMs, now)
      return [
        {
          type: 'ModelPurged',
          data: {
            model,
            purgedAt: now.toISOString(),
            versions: [...versions].sort((a, b) => a - b),
            objectsDeleted,
          },
        },
      ]
    }
    case 'RegisterRunVersion': {
      const { model, runId, attempt, runOwnerId, registration, now } = command.data
      const key = runKey(runId)
      // The run was decided before (a redelivery, a restart after the append): nothing new.
      if (state.sources[key] !== undefined) return []
      const id = sourceDecisionEventId(model, key)
      const refuse = (reason: 'not_owner' | 'model_deleted', message: string): ModelEvent[] => [
        refusal(id, { model, runId, attempt, runOwnerId, reason, message, now }),
      ]
      const events: ModelEvent[] = []
      if (state.status === 'absent' || state.status === 'purged') {
        // Created on first use, also when the run's queueing was never seen.
        events.push(createdForRun(model, runId, runOwnerId, registration.task, now))
      } else if (state.info!.ownerId !== runOwnerId) {
        return refuse(
          'not_owner',
          `model ${model} belongs to another user; run ${runId}'s owner ${runOwnerId} cannot add versions to it`,
        )
      } else if (state.status === 'deleted') {
        return refuse('model_deleted', `model ${model} is deleted; run ${runId} was not registered`)
      }
      events.push(registered(id, model, state.nextVersion, runOwnerId, registration, now))
      return events
    }
    case 'RefuseRunVersion': {
      const d = command.data
      const key = runKey(d.runId)
      if (state.sources[key] !== undefined) return []
      const id = sourceDecisionEventId(d.model, key)
      // The same precedence as a registration: whose model it is decides first.
      if (state.status === 'absent' || state.status === 'purged') {
        return [createdForRun(d.model, d.runId, d.runOwnerId, d.task, d.now), refusal(id, d)]
      }
      if (state.info!.ownerId !== d.runOwnerId) {
        return [
          refusal(id, {
            ...d,
            reason: 'not_owner',
            message: `model ${d.model} belongs to another user; run ${d.runId}'s owner ${d.runOwnerId} cannot add versions to it`,
          }),
        ]
      }
      if (state.status === 'deleted') {
        return [
          refusal(id, {
            ...d,
            reason: 'model_deleted',
            message: `model ${d.model} is deleted; run ${d.runId} was not registered`,
          }),
        ]
      }
      return [refusal(id, d)]
    }
    case 'RegisterUploadedVersion': {
      const { model, uploadId, registration, now } = command.data
      const key = `upload:${uploadId}`
      if (state.sources[key] !== undefined) return []
      const info = requireActive(state, model, 'add a version to')
      return [
        registered(
          sourceDecisionEventId(model, key),
          model,
          state.nextVersion,
          info.ownerId,
          registration,
          now,
        ),
      ]
    }
    case 'AnnotateVersion': {
      const d = command.data
      requireActive(state, d.model, 'annotate')
      const version = requireVersion(state, d.model, d.version)
      if (d.annotationId in version.annotations) {
        // Retried under the same Idempotency-Key: answered, not written again (422 if the
        // key came with another request).
        if (isRepeatedCreate(version.annotations[d.annotationId] ?? undefined, d.requestHash)) {
          return []
        }
        throw new IllegalStateError(`annotation ${d.annotationId} already exists`)
      }
      if (d.text.trim().length === 0) throw ValidationError.field('text', 'must not be blank')
      if (d.text.length > MAX_ANNOTATION_TEXT) {
        throw ValidationError.field('text', `must be at most ${MAX_ANNOTATION_TEXT} characters`)
      }
      return [
        {
          type: 'ModelVersionAnnotated',
          data: {
            model: d.model,
            version: d.version,
            annotationId: d.annotationId,
            kind: d.kind,
            text: d.text,
            ...(d.data !== undefined ? { data: d.data } : {}),
            annotatedAt: d.now.toISOString(),
            ...(d.requestHash !== undefined ? { requestHash: d.requestHash } : {}),
          },
        },
      ]
    }
    case 'DeleteVersion': {
      const { model, version, served, now } = command.data
      requireActive(state, model, 'delete a version of')
      const record = requireVersion(state, model, version)
      if (record.status === 'deleted') return []
      if (served.includes(version)) {
        throw new IllegalStateError(
          `version ${version} of ${model} is served by the current release: change the release first`,
        )
      }
      const at = now.toISOString()
      const events: ModelEvent[] = [
        { type: 'ModelVersionDeleted', data: { model, version, deletedAt: at } },
      ]
      // Aliases never name a deleted version: they go with it (their history keeps them).
      for (const [alias, target] of Object.entries(state.aliases).sort()) {
        if (target === version) {
          events.push({
            type: 'ModelAliasRemoved',
            data: { model, alias, previous: version, reason: 'version_deleted', removedAt: at },
          })
        }
      }
      return events
    }
    case 'RestoreVersion': {
      const { model, version, reason, now } = command.data
      requireActive(state, model, 'restore a version of')
      const record = requireVersion(state, model, version)
      if (record.status === 'active') return []
      return [
        {
          type: 'ModelVersionRestored',
          data: { model, version, restoredAt: now.toISOString(), reason },
        },
      ]
    }
    case 'PurgeVersion': {
      const { model, version, now, retentionMs, objectsDeleted } = command.data
      const record = state.versions[version]
      if (!record) throw new NotFoundError('version', `${model}/${version}`)
      if (record.status === 'purged') return []
      if (record.status !== 'deleted' || record.deletedAt === null) {
        throw new IllegalStateError(
          `only a deleted version can be purged; ${model}/${version} is not`,
        )
      }
      assertRetentionOver(`version ${model}/${version}`, record.deletedAt, retentionMs, now)
      return [
        {
          type: 'ModelVersionPurged',
          data: { model, version, purgedAt: now.toISOString(), objectsDeleted },
        },
      ]
    }
    case 'SetAlias': {
      const { model, alias, version, now } = command.data
      assertAliasName(alias)
      if (isReservedAlias(alias)) {
        throw new IllegalStateError(
          alias === 'champion'
            ? "'champion' is reserved: it names the release's stable version and moves only with the release"
            : "'latest' is reserved: it names the newest version",
        )
      }
      requireActive(state, model, 'set an alias of')
      requireLiveVersion(state, model, version)
      const previous = state.aliases[alias] ?? null
      if (previous === version) return []
      return [
        {
          type: 'ModelAliasSet',
          data: { model, alias, version, previous, setAt: now.toISOString() },
        },
      ]
    }
    case 'RemoveAlias': {
      const { model, alias, now } = command.data
      requireActive(state, model, 'remove an alias of')
      const previous = state.aliases[alias]
      if (previous === undefined) {
        if (isReservedAlias(alias)) {
          throw new IllegalStateError(`'${alias}' is reserved and cannot be removed`)
        }
        throw new NotFoundError('alias', `${model}/${alias}`)
      }
      return [
        {
          type: 'ModelAliasRemoved',
          data: { model, alias, previous, reason: 'user', removedAt: now.toISOString() },
        },
      ]
    }
    default: {
      const unknownCommand: never = command
      return unknownCommand
    }
  }
}

export function runKey(runId: string): string {
  return `run:${runId}`
}

export function sourceKeyOf(source: VersionSource): string | undefined {
  if (source.kind === 'training') return runKey(source.runId)
  return 'uploadId' in source ? `upload:${source.uploadId}` : undefined
}

function createdForRun(
  model: string,
  runId: string,
  ownerId: string,
  task: ModelTask,
  now: Date,
): ModelCreated & { id: string } {
  return {
    id: modelCreatedByRunEventId(model, runId),
    type: 'ModelCreated',
    data: {
      model,
      ownerId,
      task,
      description: '',
      tags: [],
      origin: 'training',
      createdAt: now.toISOString(),
      runId,
    },
  }
}

function registered(
  id: string,
  model: string,
  version: number,
  ownerId: string,
  r: VersionRegistration,
  now: Date,
): ModelVersionRegistered & { id: string } {
  return {
    id,
    type: 'ModelVersionRegistered',
    data: {
      model,
      version,
      ownerId,
      task: r.task,
      artifact: r.artifact,
      signature: r.signature,
      artifacts: r.artifacts,
      metrics: r.metrics,
      source: r.source,
      lineage: r.lineage,
      ...(r.trainer !== undefined ? { trainer: r.trainer } : {}),
      ...(r.libraries !== undefined ? { libraries: r.libraries } : {}),
      ...(r.params !== undefined ? { params: r.params } : {}),
      ...(r.paramsOmitted ? { paramsOmitted: true } : {}),
      ...(r.target !== undefined ? { target: r.target } : {}),
      ...(r.seed !== undefined ? { seed: r.seed } : {}),
      ...(r.description !== undefined ? { description: r.description } : {}),
      registeredAt: now.toISOString(),
    },
  }
}

function refusal(
  id: string,
  d: {
    model: string
    runId: string
    attempt: number
    runOwnerId: string
    reason: ModelVersionRegistrationRefused['data']['reason']
    message: string
    now: Date
  },
): ModelVersionRegistrationRefused & { id: string } {
  return {
    id,
    type: 'ModelVersionRegistrationRefused',
    data: {
      model: d.model,
      runId: d.runId,
      attempt: d.attempt,
      ownerId: d.runOwnerId,
      reason: d.reason,
      message: d.message,
      refusedAt: d.now.toISOString(),
    },
  }
}

function withVersion(state: ModelState, version: VersionRecord): ModelState {
  return { ...state, versions: { ...state.versions, [version.version]: version } }
}

function requireExisting(state: ModelState, model: string): ModelInfo {
  if ((state.status !== 'active' && state.status !== 'deleted') || !state.info) {
    throw new NotFoundError('model', model)
  }
  return state.info
}

function requireActive(state: ModelState, model: string, action: string): ModelInfo {
  const info = requireExisting(state, model)
  if (state.status === 'deleted') {
    throw new IllegalStateError(`cannot ${action} model ${model}: it is deleted`)
  }
  return info
}

/** A version that exists (deleted or not); a purged one is gone. */
export function requireVersion(state: ModelState, model: string, version: number): VersionRecord {
  const record = state.versions[version]
  if (!record || record.status === 'purged')
    throw new NotFoundError('version', `${model}/${version}`)
  return record
}

/** A version that exists and is not deleted. */
export function requireLiveVersion(
  state: ModelState,
  model: string,
  version: number,
): VersionRecord {
  const record = requireVersion(state, model, version)
  if (record.status === 'deleted') {
    throw new IllegalStateError(`version ${version} of ${model} is deleted`)
  }
  return record
}

function assertRetentionOver(what: string, deletedAt: string, retentionMs: number, now: Date) {
  const purgeableFrom = Date.parse(deletedAt) + retentionMs
  if (now.getTime() < purgeableFrom) {
    throw new IllegalStateError(`${what} is kept until ${new Date(purgeableFrom).toISOString()}`)
  }
}

/** The newest version that is neither deleted nor purged (the `latest` alias). */
export function latestVersion(state: ModelState): number | undefined {
  const live = Object.values(state.versions).filter((v) => v.status === 'active')
  return live.length === 0 ? undefined : Math.max(...live.map((v) => v.version))
}

export const modelDecider = {
  decide: decideModel,
  evolve: evolveModel,
  initialState: initialModelState,
  eventTypes: MODEL_EVENT_TYPES,
} satisfies AggregateDecider<ModelCommand, ModelEvent, ModelState>
