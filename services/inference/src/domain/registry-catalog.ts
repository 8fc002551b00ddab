import {
  CHALLENGER_ALIAS,
  REGISTRY_EVENTS,
  type ModelAliasRemovedData,
  type ModelAliasSetData,
  type ModelCreatedData,
  type ModelDeletedData,
  type ModelRestoredData,
  type ModelVersionRegisteredData,
  type Release,
  type ReleaseChangedData,
  type RolloutRevertedData,
  type StoredObject,
} from '@argmax/contracts'
import type { ModelTask } from '@argmax/contracts'

/**
 * What the gateway knows of the registry, folded from its events (event-carried state
 * transfer): every model, its registered versions (where the artifact and the signature are)
 * and its release. Rebuilt from the REGISTRY stream's first event at every start, so it is
 * exactly the registry's state at the position it has read; events of kinds it does not know
 * (the registry publishes more) leave it unchanged.
 */
export interface CatalogVersion {
  model: string
  version: number
  task: ModelTask
  artifact: StoredObject
  signature: StoredObject
}

export interface CatalogModel {
  name: string
  ownerId: string
  deleted: boolean
  versions: Map<number, CatalogVersion>
  /** null: nothing released (yet, or any more). */
  release: Release | null
  /** REGISTRY stream sequence of the ReleaseChanged that set `release`. */
  releaseSequence: number | null
  /** Alias → version (`champion`, `challenger` …). */
  aliases: Map<string, number>
  /** Versions a rollout rolled back (a verdict against them: not worth keeping warm). */
  rolledBack: Set<number>
}

export interface RegistryCatalog {
  models: Map<string, CatalogModel>
  /** The last REGISTRY sequence applied. */
  position: number
}

/** The slice of a recorded event the catalog reads. */
export interface RegistryEvent {
  type: string
  sequence: number
  data: unknown
}

export function emptyCatalog(): RegistryCatalog {
  return { models: new Map(), position: 0 }
}

function modelOf(catalog: RegistryCatalog, name: string): CatalogModel {
  let model = catalog.models.get(name)
  if (!model) {
    // Version or release events name their model; a catalog that somehow missed its creation
    // (a stream truncated by an operator) still serves what the registry released.
    model = {
      name,
      ownerId: '',
      deleted: false,
      versions: new Map(),
      release: null,
      releaseSequence: null,
      aliases: new Map(),
      rolledBack: new Set(),
    }
    catalog.models.set(name, model)
  }
  return model
}

/**
 * Applies one event in stream order; answers the model it changed, or undefined. Mutates the
 * catalog in place (it is large and read on every request), but does no I/O: pure in the
 * sense that matters for tests — the same events give the same catalog.
 */
export function applyRegistryEvent(
  catalog: RegistryCatalog,
  event: RegistryEvent,
): string | undefined {
  catalog.position = Math.max(catalog.position, event.sequence)
  switch (event.type) {
    case REGISTRY_EVENTS.modelCreated: {
      const data = event.data as ModelCreatedData
      const model = modelOf(catalog, data.model)
      model.ownerId = data.ownerId
      model.deleted = false
      return data.model
    }
    case REGISTRY_EVENTS.modelDeleted: {
      const data = event.data as ModelDeletedData
      const model = modelOf(catalog, data.model)
      model.deleted = true
      model.release = null
      model.releaseSequence = event.sequence
      return data.model
    }
    case REGISTRY_EVENTS.modelRestored: {
      // Back, with its versions, but serving nothing until a ReleaseChanged says so.
      const data = event.data as ModelRestoredData
      const model = modelOf(catalog, data.model)
      model.deleted = false
      return data.model
    }
    case REGISTRY_EVENTS.versionRegistered: {
      const data = event.data as ModelVersionRegisteredData
      const model = modelOf(catalog, data.model)
      if (!model.ownerId) model.ownerId = data.ownerId
      model.versions.set(data.version, {
        model: data.model,
        version: data.version,
        task: data.task,
        artifact: data.artifact,
        signature: data.signature,
      })
      return data.model
    }
    case REGISTRY_EVENTS.releaseChanged: {
      const data = event.data as ReleaseChangedData
      const model = modelOf(catalog, data.model)
      model.release = data.release
      model.releaseSequence = event.sequence
      return data.model
    }
    case REGISTRY_EVENTS.aliasSet: {
      const data = event.data as ModelAliasSetData
      modelOf(catalog, data.model).aliases.set(data.alias, data.version)
      return data.model
    }
    case REGISTRY_EVENTS.aliasRemoved: {
      const data = event.data as ModelAliasRemovedData
      modelOf(catalog, data.model).aliases.delete(data.alias)
      return data.model
    }
    case REGISTRY_EVENTS.rolloutReverted: {
      const data = event.data as RolloutRevertedData
      if (data.outcome !== 'rolled_back' || data.candidate === undefined) return undefined
      modelOf(catalog, data.model).rolledBack.add(data.candidate)
      return data.model
    }
    default:
      return undefined
  }
}

/**
 * The version to keep loaded before any release routes to it: the `challenger` a retrain
 * pipeline registered, so that its canary starts on a warm model (the pipeline's warm step
 * waits for it). Not once a release serves it (then it is loaded anyway), nor after a rollout
 * of it was rolled back.
 */
export function warmVersion(model: CatalogModel): number | undefined {
  const challenger = model.aliases.get(CHALLENGER_ALIAS)
  if (challenger === undefined || model.deleted || !model.versions.has(challenger)) return undefined
  if (model.rolledBack.has(challenger)) return undefined
  if (releaseVersions(model.release).includes(challenger)) return undefined
  return challenger
}

/** The versions a release serves: stable, canary and shadow (each once). */
export function releaseVersions(release: Release | null): number[] {
  if (!release) return []
  const versions = [release.stable]
  if (release.canary) versions.push(release.canary.version)
  if (release.shadow !== undefined) versions.push(release.shadow)
  return [...new Set(versions)]
}
