import type { StoredObject } from './artifacts.ts'
import type { ModelTask } from './model-signature.ts'

/**
 * What the registry publishes for others (stream `REGISTRY`): models, versions, releases and
 * the outcomes of canary rollouts. The inference gateway follows `ReleaseChanged` (what to
 * serve, by what weights) and `ModelVersionRegistered` (where each version's artifact and
 * signature are); training and feedback follow models and versions; training's pipelines follow
 * `RolloutPromoted` and `RolloutReverted`; the gateway also follows `ModelAliasSet` and
 * `ModelAliasRemoved` (it warms the `challenger`). Subjects: `registry.model.<name>` for model and
 * version events, `registry.release.<name>` for releases, `registry.rollout.<name>` for
 * rollouts (whose other events — started, step started, step judged with its evidence, paused …
 * — are the registry's own).
 */

/** Model names become `/v2/models/{name}`. */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/

export interface ModelCreatedData {
  model: string
  ownerId: string
  task?: ModelTask
  description: string
  tags: string[]
  /** `user` (REST) or `training` (created on first use by a run). */
  origin: 'user' | 'training'
  createdAt: string
}

export interface ModelDeletedData {
  model: string
  deletedAt: string
}

/** A deleted model brought back before its purge (it serves nothing until a release says so). */
export interface ModelRestoredData {
  model: string
  restoredAt: string
}

export interface ModelVersionRegisteredData {
  model: string
  /** 1, 2, 3 … per model; never reused. */
  version: number
  ownerId: string
  task: ModelTask
  artifact: StoredObject
  /** `schema.json`, a `ModelSignature`; loaded and cached by its SHA-256. */
  signature: StoredObject
  metrics: Record<string, number>
  source: { kind: 'training'; runId: string; attempt: number } | { kind: 'upload' }
  lineage: {
    datasetId?: string
    datasetVersionId?: string
    datasetSha256?: string
    /** Dataset versions read after `datasetVersionId` as one table (a retrain's feedback). */
    extraDatasets?: Array<{ datasetId: string; versionId: string; sha256: string }>
    runId?: string
    attempt?: number
  }
  /** How it was trained (training versions); absent from uploads and older events. */
  trainer?: { name: string; image?: string; codeVersion: string }
  /** Library name → version, as the trainer reported them. */
  libraries?: Record<string, string>
  /** Hyper-parameters, as the trainer resolved them (bounded: see the registry's README). */
  params?: Record<string, unknown>
  target?: string
  seed?: number
  registeredAt: string
}

/**
 * The alias a retrain pipeline gives the candidate it registers. The gateway loads the version
 * it names on its model servers before any release routes traffic there (unless a rollout of
 * it was rolled back), so that a canary starts on a warm model.
 */
export const CHALLENGER_ALIAS = 'challenger'

/** A name (`champion`, `challenger` …) now points at a version of the model. */
export interface ModelAliasSetData {
  model: string
  alias: string
  version: number
  /** The version it pointed at before, null when new. */
  previous: number | null
  setAt: string
}

export interface ModelAliasRemovedData {
  model: string
  alias: string
  previous: number
  /** `user`, or `version_deleted` when the version it named was deleted. */
  reason: 'user' | 'version_deleted'
  removedAt: string
}

/** What serves a model's traffic. */
export interface Release {
  stable: number
  /** A share of traffic (0–100, percent) for a candidate version. */
  canary?: { version: number; percent: number }
  /** Gets a copy of every request; its answers never reach callers. */
  shadow?: number
}

export interface ReleaseChangedData {
  model: string
  /** null: the model serves nothing (e.g. deleted). */
  release: Release | null
  previous: Release | null
  reason: string
  changedAt: string
  /**
   * What made the change: `set` (PUT …/release), `rollback` (the previous release restored),
   * `bootstrap` (the first release from configuration), `model_deleted` (release null).
   * Absent from events written before it existed (read as `set`).
   */
  kind?: 'set' | 'rollback' | 'bootstrap' | 'model_deleted'
  /** Who changed it (the JWT subject or `system:<component>`), as the envelope's actor. */
  changedBy?: string
  /** Declared breaking: the inputs differ from the previous stable version's. */
  breaking?: boolean
}

/**
 * A rollout's candidate passed every canary step and became the stable version (`champion`
 * moves with it). The release change itself is a `ReleaseChanged` at `releasePosition`.
 */
export interface RolloutPromotedData {
  /** `<model>.<n>`: n counts the model's rollouts from 1. */
  rolloutId: string
  model: string
  /** The version promoted (absent from events written before it was added: `release.stable`). */
  candidate?: number
  release: Release
  /** The REGISTRY sequence of the release change. */
  releasePosition: number
  /** The stable version before: what a rollback of this rollout restores. */
  previousStable: number
  promotedAt: string
}

/**
 * A rollout ended without promotion, final: `rolled_back` (a canary step failed on its live
 * signals, or an admin rolled it back — the candidate is annotated `rollout_rejected` with the
 * evidence, `annotationId`) or `aborted` (stopped without a verdict on the candidate). The
 * step's evidence is the registry's `RolloutStepJudged`, on the same subject.
 */
export interface RolloutRevertedData {
  rolloutId: string
  model: string
  /** The version rolled out (absent from events written before it was added). */
  candidate?: number
  outcome: 'rolled_back' | 'aborted'
  /** The release after the revert; null when the rollout left the release as it was. */
  release: Release | null
  releasePosition: number | null
  /** The `rollout_rejected` annotation on the candidate (rolled back only). */
  annotationId?: string
  revertedAt: string
}

export const REGISTRY_EVENTS = {
  modelCreated: 'ModelCreated',
  modelDeleted: 'ModelDeleted',
  modelRestored: 'ModelRestored',
  versionRegistered: 'ModelVersionRegistered',
  releaseChanged: 'ReleaseChanged',
  rolloutPromoted: 'RolloutPromoted',
  rolloutReverted: 'RolloutReverted',
  aliasSet: 'ModelAliasSet',
  aliasRemoved: 'ModelAliasRemoved',
} as const
