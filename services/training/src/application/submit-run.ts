import { assertCanWrite, canAccess, hasRole, type Principal } from '@argmax/auth'
import { ForbiddenError, IllegalStateError, NotFoundError, ValidationError } from '@argmax/errors'
import { handleCommand, identifyCreate, loadAggregate } from '@argmax/events'
import type { CreateRunInput } from '../api/contract.ts'
import {
  datasetRefOf,
  decideRun,
  planRun,
  quotaDecider,
  runDecider,
  type Priority,
  type QuotaLimits,
  type RunState,
  type SchemaColumn,
  type TrainingRunQueued,
} from '../domain/index.ts'
import { readStoredObject } from '@argmax/storage'
import { schemaColumns } from '../projections/dataset-versions.projection.ts'
import { findDatasetVersion, type KnownVersion } from '../projections/dataset-versions.queries.ts'
import { quotaSubject, runSubject } from '../streams.ts'
import type { TrainingDeps } from './dependencies.ts'

type Deps = Pick<
  TrainingDeps,
  'store' | 'names' | 'db' | 'now' | 'newId' | 'settings' | 'runner' | 'userQueue' | 'wakeup' | 's3'
>

/** A stored schema of 10,000 columns with long names stays far below this. */
const MAX_STORED_SCHEMA_BYTES = 16 * 1024 * 1024

/**
 * Submits a run. Everything that can be refused is refused before anything is written: the
 * caller's rights, the dataset version (training's own projection of the DATASET stream: an
 * unknown or someone else's version is 404, one not VALIDATED 409), the target, features and
 * trainer parameters against the version's schema (400 naming the field), extra versions read
 * with it (the same checks, the same format, the target column present), priority and timeout
 * against the caller's role (403), the runner's abilities (400). Then, one submission of this
 * user at a time, the quota is decided on the user's quota aggregate (429 with Retry-After, no
 * event) and the run is queued.
 *
 * Under an `Idempotency-Key` the run id derives from (caller, key): a retry finds its run and
 * is answered with it, whatever the quota says now.
 */
export async function submitRun(
  deps: Deps,
  principal: Principal,
  input: CreateRunInput,
  idempotencyKey?: string,
): Promise<{ runId: string; position: number; state: RunState }> {
  assertCanWrite(principal)
  const { id: runId, requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: 'training.run.create',
    request: input,
    newId: deps.newId,
  })
  const subject = runSubject(deps.names, runId)
  if (requestHash !== undefined) {
    const existing = await loadAggregate(deps.store, runDecider, subject)
    if (existing.state.status !== 'absent') {
      // Nothing to do for a repeat (the same answer), 422 for another body under the key.
      decideRun(
        { type: 'QueueRun', data: { ...existing.state.queued, requestHash } },
        existing.state,
      )
      return { runId, position: existing.position, state: existing.state }
    }
  }

  const { settings } = deps
  const version = await findDatasetVersion(deps.db, input.datasetVersionId)
  if (!version || !canAccess(principal, version.ownerId, 'read')) {
    throw new NotFoundError('dataset version', input.datasetVersionId)
  }
  if (version.datasetDeleted) {
    throw new IllegalStateError(
      `dataset ${version.datasetId} was deleted: its versions cannot be trained on`,
    )
  }
  if (version.status !== 'VALIDATED') {
    throw new IllegalStateError(
      `dataset version ${version.versionId} is ${version.status}: only a VALIDATED version can be trained on`,
    )
  }
  const plan = planRun(input, await loadSchema(deps, version))
  const extraDatasets = await Promise.all(
    (input.extraDatasetVersionIds ?? []).map(async (id, i) => {
      const field = `/extraDatasetVersionIds/${i}`
      if (id === version.versionId) throw ValidationError.field(field, 'is datasetVersionId itself')
      const extra = await findDatasetVersion(deps.db, id)
      if (!extra || !canAccess(principal, extra.ownerId, 'read')) {
        throw new NotFoundError('dataset version', id)
      }
      if (extra.datasetDeleted) {
        throw new IllegalStateError(
          `dataset ${extra.datasetId} was deleted: its versions cannot be trained on`,
        )
      }
      if (extra.status !== 'VALIDATED') {
        throw new IllegalStateError(
          `dataset version ${id} is ${extra.status}: only a VALIDATED version can be trained on`,
        )
      }
      if (extra.format !== version.format) {
        throw ValidationError.field(
          field,
          `is ${extra.format}, datasetVersionId is ${version.format}: the versions of one run share a format`,
        )
      }
      const columns = await loadSchema(deps, extra)
      if (!columns.some((c) => c.name === plan.target)) {
        throw ValidationError.field(field, `has no column '${plan.target}' (the target)`)
      }
      return datasetRefOf(extra)
    }),
  )
  const priority = priorityFor(principal, input.priority)
  const timeoutSeconds = timeoutFor(principal, input.timeoutSeconds, settings.timeouts)
  assertRunnerCan(deps.runner, settings.runner, plan.trainer.kind, plan.resources)

  const now = deps.now()
  const data: TrainingRunQueued['data'] = {
    runId,
    model: input.model,
    ownerId: principal.subject,
    task: plan.task,
    dataset: datasetRefOf(version),
    ...(extraDatasets.length > 0 ? { extraDatasets } : {}),
    queuedAt: now.toISOString(),
    trainer: plan.trainer,
    target: plan.target,
    features: plan.features,
    featuresGiven: plan.featuresGiven,
    params: plan.params,
    priority,
    resources: plan.resources,
    timeoutSeconds,
    seed: plan.seed,
    ...(plan.checkpointEvery !== undefined ? { checkpointEvery: plan.checkpointEvery } : {}),
    maxAttempts: settings.retry.maxAttempts,
    ...(requestHash !== undefined ? { requestHash } : {}),
  }
  const defaults = quotaDefaults(principal, settings.quotas)
  const outcome = await deps.userQueue.run(principal.subject, async () => {
    // The slot first: a crash right after leaves an admission without a run, which the orphan
    // sweep releases; the other order could leave a run that no quota counted.
    await handleCommand(
      deps.store,
      quotaDecider,
      quotaSubject(deps.names, principal.subject),
      { type: 'Admit', data: { userId: principal.subject, runId, defaults, now } },
      { actor: principal },
    )
    return handleCommand(
      deps.store,
      runDecider,
      subject,
      { type: 'QueueRun', data },
      { actor: principal },
    )
  })
  deps.wakeup.wake()
  return { runId, position: outcome.position, state: outcome.state }
}

export function quotaDefaults(
  principal: Principal,
  quotas: { user: QuotaLimits; internal: QuotaLimits },
): QuotaLimits {
  return hasRole(principal, 'internal') || hasRole(principal, 'admin')
    ? quotas.internal
    : quotas.user
}

/** internal → high, everyone else → normal; `high` is for internal users and admins. */
function priorityFor(principal: Principal, asked: Priority | undefined): Priority {
  const privileged = hasRole(principal, 'internal') || hasRole(principal, 'admin')
  if (asked === 'high' && !privileged) {
    throw new ForbiddenError("priority 'high' is for internal users and admins", {
      errors: [{ field: '/priority', message: "'high' is for internal users and admins" }],
    })
  }
  return asked ?? (hasRole(principal, 'internal') ? 'high' : 'normal')
}

function timeoutFor(
  principal: Principal,
  asked: number | undefined,
  timeouts: { defaultSeconds: number; longSeconds: number; longRunUsers: string[] },
): number {
  if (asked === undefined) return timeouts.defaultSeconds
  const hours = (seconds: number) => `${seconds / 3600} h`
  if (asked > timeouts.longSeconds) {
    throw ValidationError.field(
      '/timeoutSeconds',
      `must be at most ${timeouts.longSeconds} (${hours(timeouts.longSeconds)})`,
    )
  }
  if (asked > timeouts.defaultSeconds && !timeouts.longRunUsers.includes(principal.subject)) {
    throw new ForbiddenError(
      `timeouts above ${hours(timeouts.defaultSeconds)} are for allow-listed users (ARGMAX_TRAINING_LONG_RUN_USERS)`,
      {
        errors: [
          { field: '/timeoutSeconds', message: `at most ${timeouts.defaultSeconds} for this user` },
        ],
      },
    )
  }
  return asked
}

function assertRunnerCan(
  runner: TrainingDeps['runner'],
  kind: 'local' | 'kubernetes',
  trainer: 'builtin' | 'image',
  resources: { gpus: number; gpuProfile?: string },
): void {
  if (trainer === 'image' && kind !== 'kubernetes') {
    throw ValidationError.field(
      '/trainer',
      `custom trainers (image + command) run on the kubernetes runner; this service runs the ${kind} runner`,
    )
  }
  if (resources.gpuProfile !== undefined && kind !== 'kubernetes') {
    throw ValidationError.field(
      '/resources/gpuProfile',
      'GPU profiles (e.g. MIG slices) need the kubernetes runner',
    )
  }
  const { gpus } = runner.capacity()
  if (resources.gpus > gpus) {
    throw ValidationError.field('/resources/gpus', `the ${kind} runner's pool has ${gpus} GPU(s)`)
  }
}

/** A schema too large for its event (thousands of columns) is read from where dataset stored it. */
async function loadSchema(deps: Pick<Deps, 's3'>, version: KnownVersion): Promise<SchemaColumn[]> {
  if (!version.schemaStored) return version.schema
  const bytes = await readStoredObject(deps.s3, version.schemaStored, {
    maxBytes: MAX_STORED_SCHEMA_BYTES,
  })
  return schemaColumns(JSON.parse(bytes.toString('utf8')))
}
