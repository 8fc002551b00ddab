import type {
  StoredObject,
  TrainingRunQueuedData,
  TrainingRunSucceededData,
} from '@argmax/contracts'
import { handleCommand } from '@argmax/events'
import {
  MAX_INLINE_PARAMS_BYTES,
  MAX_METRICS,
  MODEL_NAME_PATTERN,
  modelDecider,
  runKey,
  type VersionRegistration,
} from '../domain/index.ts'
import { modelSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { loadModel } from './model-access.ts'
import { loadSignature, SignatureUnreadableError } from './signatures.ts'

/** The actor of what the registry does on training's behalf. */
export const TRAINING_FOLLOWER_ACTOR = 'system:registry-training' as const

type Deps = Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'now'>

export interface Causation {
  eventId: string
  correlationId: string
}

export type RunOutcome =
  | { outcome: 'registered'; version: number }
  | { outcome: 'refused'; reason: string }
  | { outcome: 'already_decided' }
  | { outcome: 'invalid_name' }

/**
 * A run was queued for a model name: the model is created on first use, owned by the run's
 * owner. An existing model — someone else's included — is left as it is (the run's result will
 * be refused then, see registerRunVersion).
 */
export async function ensureModelForRun(
  deps: Deps,
  run: TrainingRunQueuedData,
  cause: Causation,
): Promise<'created' | 'exists' | 'invalid_name'> {
  if (!MODEL_NAME_PATTERN.test(run.model)) return 'invalid_name'
  const outcome = await handleCommand(
    deps.store,
    modelDecider,
    modelSubject(deps.names, run.model),
    {
      type: 'EnsureModelForRun',
      data: {
        model: run.model,
        runId: run.runId,
        ownerId: run.ownerId,
        task: run.task,
        now: deps.now(),
      },
    },
    {
      actor: TRAINING_FOLLOWER_ACTOR,
      causationId: cause.eventId,
      correlationId: cause.correlationId,
    },
  )
  return outcome.written > 0 ? 'created' : 'exists'
}

/**
 * A run ended READY: it becomes exactly one version of its model. Decided on the model's
 * aggregate, keyed by the run id: the version number is the model's next one, the append
 * expects the model's last sequence (so two deliveries racing cannot both write), the event id
 * derives from model and run (so a retried append inside JetStream's duplicate window is
 * dropped), and a run already decided — registered or refused — decides nothing. A delivery
 * repeated after a crash, after the append but before the acknowledgement, is such a run.
 */
export async function registerRunVersion(
  deps: Deps,
  run: TrainingRunSucceededData,
  cause: Causation,
): Promise<RunOutcome> {
  if (!MODEL_NAME_PATTERN.test(run.model)) return { outcome: 'invalid_name' }
  const subject = modelSubject(deps.names, run.model)
  const { state } = await loadModel(deps, run.model)
  // Decided before: no need to read the signature again.
  if (state.sources[runKey(run.runId)] !== undefined) return { outcome: 'already_decided' }
  const meta = {
    actor: TRAINING_FOLLOWER_ACTOR,
    causationId: cause.eventId,
    correlationId: cause.correlationId,
  }
  try {
    // Read and cached now: the API shows it and releases compare it (storage trouble: retried).
    await loadSignature(deps, run.artifacts.signature)
  } catch (error) {
    if (!(error instanceof SignatureUnreadableError)) throw error
    const refused = await handleCommand(
      deps.store,
      modelDecider,
      subject,
      {
        type: 'RefuseRunVersion',
        data: {
          model: run.model,
          runId: run.runId,
          attempt: run.attempt,
          runOwnerId: run.ownerId,
          task: run.task,
          reason: 'signature_unreadable',
          message: error.message,
          now: deps.now(),
        },
      },
      meta,
    )
    const event = refused.events.find((e) => e.type === 'ModelVersionRegistrationRefused')
    return event?.type === 'ModelVersionRegistrationRefused'
      ? { outcome: 'refused', reason: event.data.reason }
      : { outcome: 'already_decided' }
  }
  const outcome = await handleCommand(
    deps.store,
    modelDecider,
    subject,
    {
      type: 'RegisterRunVersion',
      data: {
        model: run.model,
        runId: run.runId,
        attempt: run.attempt,
        runOwnerId: run.ownerId,
        registration: registrationOf(run),
        now: deps.now(),
      },
    },
    meta,
  )
  if (outcome.written === 0) return { outcome: 'already_decided' }
  for (const event of outcome.events) {
    if (event.type === 'ModelVersionRegistered') {
      return { outcome: 'registered', version: event.data.version }
    }
    if (event.type === 'ModelVersionRegistrationRefused') {
      return { outcome: 'refused', reason: event.data.reason }
    }
  }
  return { outcome: 'already_decided' }
}

/** What a version records from training's event: references, not bytes, and bounded. */
export function registrationOf(run: TrainingRunSucceededData): VersionRegistration {
  const artifacts: Record<string, StoredObject> = {}
  for (const [name, object] of Object.entries(run.artifacts)) {
    if (object) artifacts[name] = object
  }
  const metrics = Object.fromEntries(
    Object.entries(run.metrics)
      .filter(([, value]) => typeof value === 'number' && Number.isFinite(value))
      .slice(0, MAX_METRICS),
  )
  const paramsFit = JSON.stringify(run.params ?? {}).length <= MAX_INLINE_PARAMS_BYTES
  return {
    task: run.task,
    artifact: run.artifacts.model,
    signature: run.artifacts.signature,
    artifacts,
    metrics,
    source: { kind: 'training', runId: run.runId, attempt: run.attempt },
    lineage: {
      datasetId: run.dataset.datasetId,
      datasetVersionId: run.dataset.versionId,
      datasetSha256: run.dataset.sha256,
      ...(run.extraDatasets?.length ? { extraDatasets: run.extraDatasets } : {}),
      runId: run.runId,
      attempt: run.attempt,
    },
    trainer: run.trainer,
    libraries: run.libraries,
    ...(paramsFit ? { params: run.params } : { paramsOmitted: true }),
    target: run.target,
    seed: run.seed,
  }
}
