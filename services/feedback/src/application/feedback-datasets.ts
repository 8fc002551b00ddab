import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import { PassThrough, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { assertCanWrite, canAccess, hasRole, requireRole, type Principal } from '@argmax/auth'
import {
  s3Uri,
  type FeedbackDatasetSelection,
  type ModelSignature,
  type Release,
  type StoredObject,
} from '@argmax/contracts'
import { IllegalStateError, NotFoundError, ValidationError, markDependency } from '@argmax/errors'
import { handleCommand, identifyCreate, loadAggregate } from '@argmax/events'
import { stringify } from 'csv-stringify'
import { snapshotRows, type SnapshotRow } from '../analytics/snapshot.queries.ts'
import type { FeedbackDatasetView, PinView } from '../api/contract.ts'
import {
  feedbackDatasetDecider,
  feedbackDatasetTarget,
  modelFeedbackDecider,
  type FeedbackDatasetRequested,
} from '../domain/index.ts'
import type { FeedbackDatasetRow } from '../projections/tables.ts'
import { subjects } from '../streams.ts'
import type { FeedbackDeps } from './dependencies.ts'
import { findModelVersion, listModelVersions, visibleModel } from './model-access.ts'
import { loadSignature } from './signatures.ts'

const SPANS: Record<string, number> = {
  '5m': 5 * 60_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
}

export type SelectInput = { window: string } | { version: number } | { sinceRelease: true }

/**
 * Asks for a feedback dataset of a model: which labelled predictions (a window back from now,
 * one version's, or those since the current release), in CSV or JSON Lines. Recorded at once;
 * the materializer writes the snapshot and the dataset context registers it.
 */
export async function requestFeedbackDataset(
  deps: Pick<FeedbackDeps, 'store' | 'names' | 'db' | 'now' | 'newId'>,
  principal: Principal,
  input: { model: string; select: SelectInput; format?: 'csv' | 'jsonl' | undefined },
  idempotencyKey?: string,
): Promise<{ feedbackDatasetId: string; position: number }> {
  assertCanWrite(principal)
  const model = await visibleModel(deps, principal, input.model, 'write')
  let selection: FeedbackDatasetSelection
  if ('window' in input.select) {
    selection = { kind: 'window', window: input.select.window }
  } else if ('version' in input.select) {
    if (!(await findModelVersion(deps, input.model, input.select.version))) {
      throw ValidationError.field(
        '/select/version',
        `model ${input.model} has no version ${input.select.version}`,
      )
    }
    selection = { kind: 'version', version: input.select.version }
  } else {
    const release = model.release as Release | null
    if (!release || !model.released_at) {
      throw new IllegalStateError(`model ${input.model} has no release to select from`)
    }
    selection = {
      kind: 'release',
      version: release.stable,
      releasedAt: new Date(model.released_at).toISOString(),
    }
  }
  const format = input.format ?? 'csv'
  const { id, requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: 'feedback.dataset.create',
    request: input,
    newId: deps.newId,
  })
  const outcome = await handleCommand(
    deps.store,
    feedbackDatasetDecider,
    subjects.dataset(deps.names, id),
    {
      type: 'RequestFeedbackDataset',
      data: {
        feedbackDatasetId: id,
        model: input.model,
        ownerId: model.owner_id,
        requestedBy: principal.subject,
        selection,
        format,
        target: feedbackDatasetTarget(input.model, id, format),
        now: deps.now(),
        ...(requestHash !== undefined ? { requestHash } : {}),
      },
    },
    { actor: principal },
  )
  return { feedbackDatasetId: id, position: outcome.position }
}

/** The predictions a selection covers, as of its request. */
export function selectionRange(
  request: FeedbackDatasetRequested['data'],
  retentionDays: number,
): { from: Date; to: Date; version?: number } {
  const to = new Date(request.requestedAt)
  const selection = request.selection
  switch (selection.kind) {
    case 'window':
      return { from: new Date(to.getTime() - (SPANS[selection.window] ?? SPANS['1d']!)), to }
    case 'version':
      return {
        from: new Date(to.getTime() - retentionDays * 86_400_000),
        to,
        version: selection.version,
      }
    case 'release':
      return { from: new Date(selection.releasedAt), to, version: selection.version }
    default: {
      const unknown: never = selection
      return unknown
    }
  }
}

/**
 * Writes the snapshot: the selected labelled predictions streamed from ClickHouse to S3 as CSV
 * or JSON Lines — the model's input columns (from its newest signature in the selection) then
 * the label column — hashing as it goes, then records `FeedbackDatasetMaterialized` (or
 * `FeedbackDatasetEmpty`). Running it again for the same request (after a crash) writes the same
 * rows — labels are taken as of the request — and records nothing new once an outcome exists.
 */
export async function materializeFeedbackDataset(
  deps: Pick<
    FeedbackDeps,
    | 'store'
    | 'names'
    | 'db'
    | 'analytics'
    | 's3'
    | 'bucket'
    | 'storedJson'
    | 'now'
    | 'retentionDays'
  >,
  feedbackDatasetId: string,
  meta: { correlationId?: string; causationId?: string } = {},
): Promise<'materialized' | 'empty' | 'skipped'> {
  const subject = subjects.dataset(deps.names, feedbackDatasetId)
  const { state } = await loadAggregate(deps.store, feedbackDatasetDecider, subject)
  if (state.status !== 'REQUESTED') return 'skipped'
  const range = selectionRange(state, deps.retentionDays)
  const versions = (await listModelVersions(deps, state.model)).filter(
    (v) => range.version === undefined || v.version === range.version,
  )
  const newest = versions.at(-1)
  const signature: ModelSignature | undefined = newest
    ? await loadSignature(deps.storedJson, newest.signature)
    : undefined
  const features = (signature?.inputs ?? []).map((input) => ({
    key: input.name,
    column: input.column ?? input.name,
  }))
  const labelColumn = signature?.outputs[0]?.column ?? 'label'
  const columns = [...features.map((f) => f.column), labelColumn]
  const key = `feedback-datasets/${state.model}/${feedbackDatasetId}/data.${state.format}`

  const source = await snapshotRows(deps.analytics, {
    model: state.model,
    from: range.from,
    to: range.to,
    version: range.version,
    labelsAsOf: new Date(state.requestedAt),
  })
  const seenVersions = new Set<number>()
  let rows = 0
  const toRecords = new PassThrough({ objectMode: true })
  const reading = (async () => {
    for await (const line of createInterface({ input: source, crlfDelay: Infinity })) {
      if (line === '') continue
      const row = JSON.parse(line) as SnapshotRow
      seenVersions.add(Number(row.version))
      const inputs = JSON.parse(row.inputs) as Record<string, unknown>
      const label = row.y_number ?? row.y_class
      const values = [...features.map((f) => inputs[f.key] ?? null), label]
      rows++
      if (!toRecords.write(values)) await new Promise((resolve) => toRecords.once('drain', resolve))
    }
    toRecords.end()
  })().catch((error: unknown) => {
    // Ends the pipeline and the upload with the reading's failure instead of leaving them open.
    toRecords.destroy(error as Error)
    throw error
  })
  const encoder =
    state.format === 'csv'
      ? stringify({ header: true, columns, cast: { boolean: (v) => String(v) } })
      : new Transform({
          writableObjectMode: true,
          transform(values: unknown[], _encoding, done) {
            done(
              null,
              `${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, values[i]])))}\n`,
            )
          },
        })
  const hash = createHash('sha256')
  let size = 0
  const measured = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      size += chunk.length
      done(null, chunk)
    },
  })
  const upload = new Upload({
    client: deps.s3,
    params: {
      Bucket: deps.bucket,
      Key: key,
      Body: measured,
      ContentType: state.format === 'csv' ? 'text/csv' : 'application/x-ndjson',
    },
  })
  try {
    await Promise.all([reading, pipeline(toRecords, encoder, measured), upload.done()])
  } catch (error) {
    markDependency(error, 's3')
    throw error
  }
  const options = {
    actor: 'system:feedback-datasets' as const,
    ...(meta.correlationId ? { correlationId: meta.correlationId } : {}),
    ...(meta.causationId ? { causationId: meta.causationId } : {}),
  }
  const window = { from: range.from.toISOString(), to: range.to.toISOString() }
  if (rows === 0) {
    await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: key }))
    await handleCommand(
      deps.store,
      feedbackDatasetDecider,
      subject,
      { type: 'RecordEmpty', data: { feedbackDatasetId, window, now: deps.now() } },
      options,
    )
    return 'empty'
  }
  const object: StoredObject = { uri: s3Uri(deps.bucket, key), sha256: hash.digest('hex'), size }
  await handleCommand(
    deps.store,
    feedbackDatasetDecider,
    subject,
    {
      type: 'RecordSnapshot',
      data: {
        feedbackDatasetId,
        model: state.model,
        ownerId: state.ownerId,
        requestedBy: state.requestedBy,
        selection: state.selection,
        versions: [...seenVersions].sort((a, b) => a - b),
        window,
        object,
        format: state.format,
        rowCount: rows,
        features: features.map((f) => f.column),
        labelColumn,
        target: state.target,
        now: deps.now(),
      },
    },
    options,
  )
  return 'materialized'
}

/** A feedback dataset as the API shows it, with what the dataset context made of it. */
export async function feedbackDatasetViews(
  deps: Pick<FeedbackDeps, 'db'>,
  rows: FeedbackDatasetRow[],
): Promise<FeedbackDatasetView[]> {
  const registrations = rows.length
    ? await deps.db
        .selectFrom('dataset_registrations')
        .selectAll()
        .where(
          'version_id',
          'in',
          rows.map((r) => r.dataset_version_id),
        )
        .execute()
    : []
  const byVersion = new Map(registrations.map((r) => [r.version_id, r]))
  return rows.map((row) => {
    const registration = byVersion.get(row.dataset_version_id)
    const status =
      row.status === 'MATERIALIZED' && registration?.status === 'VALIDATED'
        ? 'REGISTERED'
        : row.status === 'MATERIALIZED' && registration?.status === 'REJECTED'
          ? 'REJECTED'
          : row.status
    const rejection =
      registration?.status === 'REJECTED' ? JSON.stringify(registration.errors) : null
    return {
      id: row.id,
      model: row.model,
      ownerId: row.owner_id,
      requestedBy: row.requested_by,
      selection: row.selection,
      format: row.format,
      status: status as FeedbackDatasetView['status'],
      versions: row.versions,
      window:
        row.window_from && row.window_to
          ? {
              from: new Date(row.window_from).toISOString(),
              to: new Date(row.window_to).toISOString(),
            }
          : null,
      rowCount: row.row_count === null ? null : Number(row.row_count),
      object: row.object,
      datasetId: row.dataset_id,
      datasetVersionId: row.dataset_version_id,
      error: row.error ?? rejection,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    }
  })
}

export async function findFeedbackDataset(
  deps: Pick<FeedbackDeps, 'db'>,
  principal: Principal,
  id: string,
): Promise<FeedbackDatasetView> {
  const row = await deps.db
    .selectFrom('feedback_datasets')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst()
  if (!row || !canAccess(principal, row.owner_id, 'read'))
    throw new NotFoundError('feedback dataset', id)
  const [view] = await feedbackDatasetViews(deps, [row])
  return view!
}

export async function listFeedbackDatasets(
  deps: Pick<FeedbackDeps, 'db'>,
  principal: Principal,
  model?: string,
): Promise<FeedbackDatasetView[]> {
  let query = deps.db.selectFrom('feedback_datasets').selectAll()
  if (!hasRole(principal, 'admin') && !hasRole(principal, 'analyst')) {
    query = query.where('owner_id', '=', principal.subject)
  }
  if (model) query = query.where('model', '=', model)
  return feedbackDatasetViews(deps, await query.orderBy('created_at', 'desc').limit(200).execute())
}

/**
 * Pins the feedback dataset the retrains of a model use (`FeedbackDatasetPinned`, published for
 * the training pipeline): operators only, and only a feedback dataset the dataset context has
 * validated. `null` unpins.
 */
export async function pinFeedbackDataset(
  deps: Pick<FeedbackDeps, 'store' | 'names' | 'db' | 'now'>,
  principal: Principal,
  model: string,
  feedbackDatasetId: string | null,
): Promise<{ position: number }> {
  requireRole(principal, 'admin')
  await visibleModel(deps, principal, model)
  let target = { datasetId: null as string | null, datasetVersionId: null as string | null }
  if (feedbackDatasetId !== null) {
    const view = await findFeedbackDataset(deps, principal, feedbackDatasetId)
    if (view.model !== model) {
      throw ValidationError.field(
        '/feedbackDatasetId',
        `belongs to model ${view.model}, not ${model}`,
      )
    }
    if (view.status !== 'REGISTERED') {
      throw new IllegalStateError(
        `feedback dataset ${feedbackDatasetId} is ${view.status}: only a registered (validated) one can be pinned`,
      )
    }
    target = { datasetId: view.datasetId, datasetVersionId: view.datasetVersionId }
  }
  const outcome = await handleCommand(
    deps.store,
    modelFeedbackDecider,
    subjects.model(deps.names, model),
    {
      type: 'PinFeedbackDataset',
      data: { model, feedbackDatasetId, ...target, pinnedBy: principal.subject, now: deps.now() },
    },
    { actor: principal },
  )
  return { position: outcome.position }
}

export async function findPin(
  deps: Pick<FeedbackDeps, 'db'>,
  principal: Principal,
  model: string,
): Promise<PinView> {
  await visibleModel(deps, principal, model)
  const pin = await deps.db
    .selectFrom('pins')
    .selectAll()
    .where('model', '=', model)
    .executeTakeFirst()
  if (!pin) throw new NotFoundError('pin of model', model)
  return {
    model,
    feedbackDatasetId: pin.feedback_dataset_id,
    datasetId: pin.dataset_id,
    datasetVersionId: pin.dataset_version_id,
    pinnedBy: pin.pinned_by,
    pinnedAt: new Date(pin.pinned_at).toISOString(),
  }
}
