import { sql, type Kysely, type Transaction } from 'kysely'
import { keysetPage } from '@argmax/projections'
import type {
  AttemptView,
  FailureView,
  ProgressView,
  RunStatusName,
  RunView,
} from '../api/contract.ts'
import type { Priority, RunResources, TrainerSpec } from '../domain/index.ts'
import type { RunAttemptRow, RunMetricsRow, RunRow, TrainingDatabase } from './tables.ts'

type Db = Kysely<TrainingDatabase> | Transaction<TrainingDatabase>

export function toRunView(row: RunRow): RunView {
  const trainer = row.trainer as TrainerSpec
  const resources = row.resources as RunResources
  return {
    id: row.id,
    model: row.model,
    ownerId: row.owner_id,
    status: row.status as RunStatusName,
    task: row.task as RunView['task'],
    trainer:
      trainer.kind === 'builtin'
        ? { name: trainer.name }
        : { name: 'custom', image: trainer.image, command: trainer.command },
    dataset: { datasetId: row.dataset_id, versionId: row.version_id, sha256: row.dataset_sha256 },
    target: row.target,
    features: row.features,
    params: row.params,
    priority: row.priority as Priority,
    queuePriority: row.queue_priority as Priority,
    resources: {
      cpu: resources.cpu,
      memoryMb: resources.memoryMb,
      gpus: resources.gpus,
      ...(resources.gpuProfile !== undefined ? { gpuProfile: resources.gpuProfile } : {}),
    },
    timeoutSeconds: row.timeout_seconds,
    seed: Number(row.seed),
    attempt: row.attempt,
    maxAttempts: row.attempts_allowed,
    runner: row.runner,
    queuedAt: row.queued_at.toISOString(),
    notBefore: row.not_before.toISOString(),
    startedAt: iso(row.first_started_at),
    attemptStartedAt: iso(row.attempt_started_at),
    deadline: iso(row.deadline),
    finishedAt: iso(row.finished_at),
    failure: (row.failure as FailureView | null) ?? null,
    metrics: row.metrics ?? null,
    artifacts: (row.artifacts as RunView['artifacts']) ?? null,
    position: Number(row.position),
  }
}

function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null
}

export function toAttemptView(row: RunAttemptRow): AttemptView {
  return {
    attempt: row.attempt,
    runner: row.runner,
    priority: row.priority as Priority,
    startedAt: row.started_at.toISOString(),
    endedAt: iso(row.ended_at),
    outcome: row.outcome as AttemptView['outcome'],
    reason: row.reason,
    message: row.message,
    exitCode: row.exit_code,
  }
}

export function toProgressView(row: RunMetricsRow): ProgressView {
  return {
    attempt: row.attempt,
    iteration: row.iteration,
    totalIterations: row.total_iterations,
    metrics: row.metrics,
    message: row.message,
    at: row.received_at.toISOString(),
  }
}

export interface RunListQuery {
  /** Only this owner's runs; undefined: every owner (admins, analysts). */
  ownerId?: string
  status?: string
  datasetId?: string
  versionId?: string
  model?: string
  cursor?: string
  limit: number
  /** Oldest first (the dead-letter list); newest first otherwise. */
  oldestFirst?: boolean
}

/** Keyset pagination on (queued_at, id). */
export async function listRuns(
  db: Db,
  query: RunListQuery,
): Promise<{ items: RunView[]; nextCursor: string | null }> {
  let select = db.selectFrom('runs').selectAll()
  if (query.ownerId !== undefined) select = select.where('owner_id', '=', query.ownerId)
  if (query.status) select = select.where('status', '=', query.status)
  if (query.datasetId) select = select.where('dataset_id', '=', query.datasetId)
  if (query.versionId) select = select.where('version_id', '=', query.versionId)
  if (query.model) select = select.where('model', '=', query.model)
  const { rows, nextCursor } = await keysetPage(select, { at: 'queued_at', key: 'id' }, query)
  return { items: rows.map(toRunView), nextCursor }
}

export async function findRunRow(db: Db, runId: string): Promise<RunRow | undefined> {
  return db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst()
}

export async function findRun(db: Db, runId: string): Promise<RunView | undefined> {
  const row = await findRunRow(db, runId)
  return row ? toRunView(row) : undefined
}

export async function listAttempts(db: Db, runId: string): Promise<AttemptView[]> {
  const rows = await db
    .selectFrom('run_attempts')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('attempt')
    .execute()
  return rows.map(toAttemptView)
}

/** The newest heartbeat of the run's current attempt. */
export async function latestProgress(
  db: Db,
  runId: string,
  attempt: number,
): Promise<ProgressView | null> {
  const row = await db
    .selectFrom('run_metrics')
    .selectAll()
    .where('run_id', '=', runId)
    .where('attempt', '=', attempt)
    .orderBy('received_at', 'desc')
    .orderBy('iteration', 'desc')
    .limit(1)
    .executeTakeFirst()
  return row ? toProgressView(row) : null
}

export async function metricsHistory(
  db: Db,
  runId: string,
  query: { attempt?: number; cursor?: string; limit: number },
): Promise<{ items: ProgressView[]; nextCursor: string | null }> {
  let select = db.selectFrom('run_metrics').selectAll().where('run_id', '=', runId)
  if (query.attempt !== undefined) select = select.where('attempt', '=', query.attempt)
  const after = query.cursor ? decodeMetricsCursor(query.cursor) : undefined
  if (after) {
    select = select.where((eb) =>
      eb.or([
        eb('attempt', '>', after.attempt),
        eb.and([eb('attempt', '=', after.attempt), eb('iteration', '>', after.iteration)]),
      ]),
    )
  }
  const rows = await select
    .orderBy('attempt')
    .orderBy('iteration')
    .limit(query.limit + 1)
    .execute()
  const page = rows.slice(0, query.limit)
  const last = page.at(-1)
  return {
    items: page.map(toProgressView),
    nextCursor:
      rows.length > query.limit && last
        ? Buffer.from(`${last.attempt}|${last.iteration}`).toString('base64url')
        : null,
  }
}

function decodeMetricsCursor(cursor: string): { attempt: number; iteration: number } | undefined {
  const [attempt, iteration] = Buffer.from(cursor, 'base64url')
    .toString('utf8')
    .split('|')
    .map(Number)
  return Number.isInteger(attempt) && Number.isInteger(iteration)
    ? { attempt: attempt!, iteration: iteration! }
    : undefined
}

/** Runs in a status, e.g. the queue (PENDING) or what runs (TRAINING). */
export async function runsInStatus(
  db: Db,
  status: 'PENDING' | 'TRAINING',
  limit = 10_000,
): Promise<RunRow[]> {
  return db
    .selectFrom('runs')
    .selectAll()
    .where('status', '=', status)
    .orderBy('queued_at')
    .limit(limit)
    .execute()
}

/** Finished runs that ended before `cutoff`: what the archive job takes. */
export async function findArchivable(db: Db, cutoff: Date, limit = 100): Promise<string[]> {
  const rows = await db
    .selectFrom('runs')
    .select('id')
    .where('status', 'in', ['READY', 'FAILED', 'CANCELLED'])
    .where('finished_at', '<=', cutoff)
    .orderBy('finished_at')
    .limit(limit)
    .execute()
  return rows.map((row) => row.id)
}

/** Admissions still holding a slot, admitted before `cutoff`, whose run is not in the read model. */
export async function findOrphanAdmissions(
  db: Db,
  cutoff: Date,
  limit = 100,
): Promise<Array<{ userId: string; runId: string }>> {
  const rows = await db
    .selectFrom('quota_admissions as a')
    .leftJoin('runs as r', 'r.id', 'a.run_id')
    .select(['a.user_id', 'a.run_id'])
    .where('a.released_at', 'is', null)
    .where('a.admitted_at', '<', cutoff)
    .where('r.id', 'is', null)
    .limit(limit)
    .execute()
  return rows.map((row) => ({ userId: row.user_id, runId: row.run_id }))
}

export async function activeAdmissions(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('quota_admissions')
    .select('run_id')
    .where('user_id', '=', userId)
    .where('released_at', 'is', null)
    .orderBy('admitted_at')
    .execute()
  return rows.map((row) => row.run_id)
}

/** How many attempts run on each runner right now (the scheduler's capacity accounting). */
export async function countTraining(db: Db): Promise<number> {
  const row = await db
    .selectFrom('runs')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('status', '=', 'TRAINING')
    .executeTakeFirstOrThrow()
  return row.n
}
