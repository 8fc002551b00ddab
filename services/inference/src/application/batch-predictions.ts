import { assertCanAccess, assertCanWrite, type Principal } from '@argmax/auth'
import { ForbiddenError, IllegalStateError, NotFoundError, ValidationError } from '@argmax/errors'
import {
  handleCommand,
  identifyCreate,
  loadAggregate,
  type EventStore,
  type RecordedEvent,
} from '@argmax/events'
import {
  batchPredictionDecider,
  type BatchPredictionState,
} from '../domain/batch-prediction.decider.ts'
import type { BatchInput } from '../domain/batch-prediction.events.ts'
import type { RegistryCatalog } from '../domain/registry-catalog.ts'
import { batchSubject, datasetVersionSubject, type InferenceStreamNames } from '../streams.ts'

export interface BatchDeps {
  store: EventStore
  names: InferenceStreamNames
  catalog: RegistryCatalog
  bucket: string
  now: () => Date
  newId: () => string
}

export interface RequestBatchInput {
  model: string
  version?: number
  alias?: 'stable' | 'canary' | 'shadow'
  dataset: { datasetId: string; versionId: string }
  /** Admins (a retrain pipeline's service credential) request on a user's behalf: the owner. */
  ownerId?: string
}

export type ExistingBatch = Exclude<BatchPredictionState, { status: 'absent' }>

/**
 * Requests a batch prediction of a model version over a validated dataset version. The version
 * is fixed now (an alias — `stable`, `canary`, `shadow` — is resolved against the model's
 * current release), and so is the input file, read from the dataset context's own events
 * (`UploadCompleted` carries its bucket and key, `VersionValidated` says it may be used).
 * The caller must be able to read the dataset (owner, admin). Creates take an Idempotency-Key.
 */
export async function requestBatchPrediction(
  deps: BatchDeps,
  principal: Principal,
  input: RequestBatchInput,
  idempotencyKey?: string,
): Promise<{ batchId: string; position: number; state: ExistingBatch }> {
  assertCanWrite(principal)
  if ((input.version === undefined) === (input.alias === undefined)) {
    throw ValidationError.field(
      'version',
      'give either version or alias (stable, canary or shadow)',
    )
  }
  const model = deps.catalog.models.get(input.model)
  if (!model || model.deleted) throw new NotFoundError('model', input.model)
  let version = input.version
  if (input.alias) {
    const release = model.release
    version =
      input.alias === 'stable'
        ? release?.stable
        : input.alias === 'canary'
          ? release?.canary?.version
          : release?.shadow
    if (version === undefined) {
      throw new IllegalStateError(
        `model ${input.model} has no ${input.alias} version in its release`,
      )
    }
  }
  if (!model.versions.has(version!))
    throw new NotFoundError('version', `${version} of model ${input.model}`)
  if (input.ownerId !== undefined && !principal.roles.includes('admin')) {
    throw new ForbiddenError('only an admin requests a batch prediction on behalf of another user')
  }
  // On someone's behalf, the dataset must be theirs to read, as if they asked themselves.
  const owner: Principal =
    input.ownerId === undefined ? principal : { subject: input.ownerId, roles: ['user'] }
  const batchInput = await datasetInput(deps, owner, input.dataset)

  const { id: batchId, requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: 'inference.batch.create',
    request: input,
    newId: deps.newId,
  })
  const outcome = await handleCommand(
    deps.store,
    batchPredictionDecider,
    batchSubject(deps.names, batchId),
    {
      type: 'RequestBatchPrediction',
      data: {
        batchId,
        ownerId: owner.subject,
        model: input.model,
        version: version!,
        ...(input.alias ? { alias: input.alias } : {}),
        input: batchInput,
        output: { bucket: deps.bucket, key: `batch-predictions/${batchId}/predictions.jsonl` },
        now: deps.now(),
        ...(requestHash !== undefined ? { requestHash } : {}),
      },
    },
    { actor: principal },
  )
  return { batchId, position: outcome.position, state: outcome.state as ExistingBatch }
}

/** A batch prediction its caller may read (owners, admins, analysts); others' are 404. */
export async function getBatchPrediction(
  deps: Pick<BatchDeps, 'store' | 'names'>,
  principal: Principal,
  batchId: string,
): Promise<{ state: ExistingBatch; position: number }> {
  const { state, position } = await loadAggregate(
    deps.store,
    batchPredictionDecider,
    batchSubject(deps.names, batchId),
  )
  if (state.status === 'absent') throw new NotFoundError('batch prediction', batchId)
  try {
    assertCanAccess(principal, state.ownerId, 'read')
  } catch {
    throw new NotFoundError('batch prediction', batchId)
  }
  return { state, position }
}

interface DatasetVersionFacts {
  datasetId?: string
  ownerId?: string
  bucket?: string
  objectKey?: string
  format?: 'csv' | 'jsonl'
  sha256?: string
  size?: number
  status: 'absent' | 'UPLOADING' | 'VALIDATING' | 'VALIDATED' | 'REJECTED' | 'ABORTED'
}

/** The dataset version's file, from the DATASET stream's events of that version. */
async function datasetInput(
  deps: BatchDeps,
  principal: Principal,
  dataset: { datasetId: string; versionId: string },
): Promise<BatchInput> {
  let events: RecordedEvent[]
  try {
    events = await deps.store.load(datasetVersionSubject(deps.names, dataset.versionId))
  } catch (error) {
    if (/no stream matches subject/i.test((error as Error).message)) events = []
    else throw error
  }
  const facts: DatasetVersionFacts = { status: 'absent' }
  for (const event of events) {
    const data = event.data as Record<string, unknown>
    switch (event.type) {
      case 'UploadStarted':
        Object.assign(facts, {
          datasetId: data['datasetId'],
          ownerId: data['ownerId'],
          format: data['format'],
          status: 'UPLOADING',
        })
        break
      case 'UploadCompleted':
        Object.assign(facts, {
          bucket: data['bucket'],
          objectKey: data['objectKey'],
          sha256: data['sha256'],
          size: data['size'],
          format: data['format'],
          status: 'VALIDATING',
        })
        break
      case 'VersionValidated':
        facts.status = 'VALIDATED'
        break
      case 'VersionRejected':
        facts.status = 'REJECTED'
        break
      case 'UploadAborted':
        facts.status = 'ABORTED'
        break
    }
  }
  const visible =
    facts.status !== 'absent' &&
    facts.datasetId === dataset.datasetId &&
    (principal.roles.includes('admin') || principal.subject === facts.ownerId)
  if (!visible)
    throw new NotFoundError(
      'dataset version',
      `${dataset.versionId} of dataset ${dataset.datasetId}`,
    )
  if (facts.status !== 'VALIDATED') {
    throw new IllegalStateError(
      `dataset version ${dataset.versionId} is ${facts.status}: only a VALIDATED version can be predicted over`,
    )
  }
  return {
    datasetId: dataset.datasetId,
    versionId: dataset.versionId,
    bucket: facts.bucket!,
    objectKey: facts.objectKey!,
    format: facts.format!,
    sha256: facts.sha256!,
    size: facts.size!,
  }
}
