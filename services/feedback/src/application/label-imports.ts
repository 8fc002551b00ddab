import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { assertCanWrite, canAccess, type Principal } from '@argmax/auth'
import { NotFoundError, ValidationError, markDependency } from '@argmax/errors'
import { handleCommand, identifyCreate, loadAggregate } from '@argmax/events'
import { parse } from 'csv-parse'
import type { ImportView } from '../api/contract.ts'
import {
  labelImportDecider,
  toLabelRecords,
  type ImportIssue,
  type LabelImportRequested,
  type LabelMapping,
} from '../domain/index.ts'
import type { ImportRow } from '../projections/tables.ts'
import { subjects } from '../streams.ts'
import { checkLabels } from './check-labels.ts'
import type { FeedbackDeps } from './dependencies.ts'
import { readJsonDocument, versionValidatedData } from './dataset-events.ts'
import { publishLabels } from './publish-labels.ts'

/** Rows checked and published together. */
const CHUNK_ROWS = 5_000
/** Refused rows listed on the import (the count covers all). */
const LISTED_ISSUES = 20

interface DatasetVersionFacts {
  ownerId: string
  datasetId: string
  bucket: string
  objectKey: string
  format: 'csv' | 'jsonl'
  columns: string[] | undefined
  validated: boolean
}

/**
 * A dataset version as the DATASET stream's events describe it (the upload's object and owner,
 * and whether it was validated, with its schema) — feedback reads the published record, never
 * the dataset service's tables or API.
 */
async function datasetVersion(
  deps: Pick<FeedbackDeps, 'store' | 'names' | 'storedJson'>,
  versionId: string,
): Promise<DatasetVersionFacts | undefined> {
  const events = await deps.store.load(subjects.datasetVersion(deps.names, versionId))
  const started = events.find((e) => e.type === 'UploadStarted')?.data as
    | {
        ownerId: string
        datasetId: string
        bucket: string
        objectKey: string
        format: 'csv' | 'jsonl'
      }
    | undefined
  if (!started) return undefined
  const validatedEvent = events.find((e) => e.type === 'VersionValidated')
  const schema = validatedEvent
    ? await readJsonDocument(deps.storedJson, versionValidatedData(validatedEvent).schema)
    : undefined
  return {
    ownerId: started.ownerId,
    datasetId: started.datasetId,
    bucket: started.bucket,
    objectKey: started.objectKey,
    format: started.format,
    columns: schema?.map((c) => c.name),
    validated: validatedEvent !== undefined,
  }
}

/**
 * Imports labels from a validated dataset version the caller may read: `mapping` names the
 * prediction id column and the label column. Checked now (the version, access, the columns);
 * the rows are read, checked like API labels and published by the importer.
 */
export async function requestImport(
  deps: Pick<FeedbackDeps, 'store' | 'names' | 'now' | 'newId' | 'storedJson'>,
  principal: Principal,
  input: { datasetId: string; versionId: string; mapping: LabelMapping },
  idempotencyKey?: string,
): Promise<{ importId: string; position: number }> {
  assertCanWrite(principal)
  const version = await datasetVersion(deps, input.versionId)
  if (
    !version ||
    version.datasetId !== input.datasetId ||
    !canAccess(principal, version.ownerId, 'read')
  ) {
    throw new NotFoundError('dataset version', input.versionId)
  }
  if (!version.validated) {
    throw ValidationError.field(
      '/versionId',
      'is not validated: only a VALIDATED version can be imported',
    )
  }
  const missing = (['predictionId', 'label'] as const).filter(
    (key) => version.columns !== undefined && !version.columns.includes(input.mapping[key]),
  )
  if (missing.length > 0) {
    throw new ValidationError(
      `the version has no column ${missing.map((k) => JSON.stringify(input.mapping[k])).join(' or ')}`,
      missing.map((key) => ({
        field: `/mapping/${key}`,
        message: `names no column of the version (it has ${version.columns!.slice(0, 20).join(', ')})`,
      })),
    )
  }
  const { id: importId, requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: 'feedback.import',
    request: input,
    newId: deps.newId,
  })
  const outcome = await handleCommand(
    deps.store,
    labelImportDecider,
    subjects.import(deps.names, importId),
    {
      type: 'RequestImport',
      data: {
        importId,
        principal: { subject: principal.subject, roles: principal.roles },
        datasetId: input.datasetId,
        versionId: input.versionId,
        bucket: version.bucket,
        objectKey: version.objectKey,
        format: version.format,
        mapping: input.mapping,
        now: deps.now(),
        ...(requestHash !== undefined ? { requestHash } : {}),
      },
    },
    { actor: principal },
  )
  return { importId, position: outcome.position }
}

/** The file's records as objects, with the line each starts on. */
async function* records(
  body: Readable,
  format: 'csv' | 'jsonl',
): AsyncGenerator<{ line: number; record: Record<string, unknown> }> {
  if (format === 'csv') {
    const parser = body.pipe(
      parse({ columns: true, bom: true, info: true, relax_column_count: true }),
    )
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, unknown>
      info: { lines: number }
    }>) {
      yield { line: info.lines, record }
    }
    return
  }
  let line = 0
  for await (const text of createInterface({ input: body, crlfDelay: Infinity })) {
    line++
    if (text.trim() === '') continue
    yield { line, record: JSON.parse(text) as Record<string, unknown> }
  }
}

/**
 * Runs an import: streams the version's file from S3, checks each chunk of rows as the principal
 * who asked (exactly as POST /v1/feedback would), publishes the accepted ones as receipts of
 * this import (ids from the import and the file's line, received at the request's time — so a
 * run after a crash publishes the same receipts again, which change nothing), and records the
 * counts and the first refused rows.
 */
export async function runImport(
  deps: Pick<
    FeedbackDeps,
    'store' | 'names' | 'db' | 's3' | 'storedJson' | 'predictionIdSecret' | 'retentionDays' | 'now'
  >,
  importId: string,
  options: { progress?: () => void; correlationId?: string } = {},
): Promise<'completed' | 'skipped'> {
  const subject = subjects.import(deps.names, importId)
  const { state } = await loadAggregate(deps.store, labelImportDecider, subject)
  if (state.status !== 'RUNNING') return 'skipped'
  const request: LabelImportRequested['data'] = state
  const principal: Principal = request.principal
  const receivedAt = new Date(request.requestedAt)
  let body: Readable
  try {
    const answer = await deps.s3.send(
      new GetObjectCommand({ Bucket: request.bucket, Key: request.objectKey }),
    )
    body = answer.Body as Readable
  } catch (error) {
    markDependency(error, 's3')
    throw error
  }
  let accepted = 0
  let rejected = 0
  let chunkIndex = 0
  const issues: ImportIssue[] = []
  const { predictionId: idColumn, label: labelColumn } = request.mapping
  const columnOf = (name: 'predictionId' | 'value') =>
    name === 'predictionId' ? idColumn : labelColumn

  const flush = async (chunk: Array<{ line: number; record: Record<string, unknown> }>) => {
    const rows = chunk.map(({ record }) => ({
      predictionId: record[idColumn],
      value: blankToNull(record[labelColumn]),
    }))
    const checked = await checkLabels(deps, principal, rows, (_row, name) => columnOf(name), {
      fromText: request.format === 'csv',
    })
    const refused = new Map<number, { column: string; message: string }>()
    for (const issue of checked.issues)
      refused.set(issue.row, { column: issue.field, message: issue.message })
    for (const [model, hiddenRows] of checked.hiddenModels) {
      for (const row of hiddenRows) {
        refused.set(row, {
          column: idColumn,
          message: `names a prediction of model ${model}, which is not one of yours`,
        })
      }
    }
    for (const [row, { column, message }] of [...refused.entries()].sort((a, b) => a[0] - b[0])) {
      rejected++
      if (issues.length < LISTED_ISSUES) issues.push({ row: chunk[row]!.line, column, message })
    }
    const labels = checked.labels.map((label) => ({ ...label, row: chunk[label.row]!.line }))
    const receipts = toLabelRecords(importId, receivedAt, labels)
    if (receipts.length > 0) {
      await publishLabels(deps, {
        requestId: importId,
        source: `import:${importId}`,
        receivedAt,
        actor: principal.subject,
        records: receipts,
        chunkOffset: chunkIndex * 1_000,
      })
    }
    accepted += receipts.length
    chunkIndex++
    options.progress?.()
  }

  let chunk: Array<{ line: number; record: Record<string, unknown> }> = []
  for await (const entry of records(body, request.format)) {
    chunk.push(entry)
    if (chunk.length >= CHUNK_ROWS) {
      await flush(chunk)
      chunk = []
    }
  }
  if (chunk.length > 0) await flush(chunk)
  await handleCommand(
    deps.store,
    labelImportDecider,
    subject,
    {
      type: 'CompleteImport',
      data: { importId, accepted, rejected, errors: issues, now: deps.now() },
    },
    {
      actor: 'system:feedback-imports',
      ...(options.correlationId ? { correlationId: options.correlationId } : {}),
    },
  )
  return 'completed'
}

function blankToNull(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? null : value
}

export async function findImport(
  deps: Pick<FeedbackDeps, 'db'>,
  principal: Principal,
  importId: string,
): Promise<ImportView> {
  const row = await deps.db
    .selectFrom('imports')
    .selectAll()
    .where('id', '=', importId)
    .executeTakeFirst()
  if (!row || !canAccess(principal, row.requested_by, 'read'))
    throw new NotFoundError('import', importId)
  return importView(row)
}

export function importView(row: ImportRow): ImportView {
  return {
    id: row.id,
    requestedBy: row.requested_by,
    datasetId: row.dataset_id,
    versionId: row.version_id,
    mapping: row.mapping as ImportView['mapping'],
    status: row.status as ImportView['status'],
    accepted: Number(row.accepted),
    rejected: Number(row.rejected),
    errors: row.errors as ImportView['errors'],
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  }
}
