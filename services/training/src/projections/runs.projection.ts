import { sql, type Kysely, type Transaction } from 'kysely'
import type { RecordedEvent } from '@argmax/events'
import type { EventProjection } from '@argmax/projections'
import { RUN_EVENT_TYPES, type RunEvent } from '../domain/index.ts'
import type { TrainingDatabase } from './tables.ts'

type Db = Kysely<TrainingDatabase> | Transaction<TrainingDatabase>

export const RUNS_PROJECTION = 'training-runs'

/**
 * Runs and their attempts, as the runs API lists them and the scheduler reads its queue. Each
 * handler is an upsert or an update guarded by the run's position, so an event applied twice
 * leaves the same rows.
 */
export async function applyRunEvent(db: Db, recorded: RecordedEvent): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as RunEvent
  const position = recorded.sequence
  const runId = event.data.runId
  // Updates of an existing run: only events newer than what the row holds.
  const update = (values: Record<string, unknown>) =>
    db
      .updateTable('runs')
      .set({ ...values, updated_at: recorded.occurredAt, position })
      .where('id', '=', runId)
      .where('position', '<', String(position))
      .executeTakeFirst()
  switch (event.type) {
    case 'TrainingRunQueued': {
      const d = event.data
      await db
        .insertInto('runs')
        .values({
          id: d.runId,
          owner_id: d.ownerId,
          model: d.model,
          status: 'PENDING',
          task: d.task,
          trainer: JSON.stringify(d.trainer),
          dataset_id: d.dataset.datasetId,
          version_id: d.dataset.versionId,
          dataset_sha256: d.dataset.sha256,
          target: d.target,
          features: JSON.stringify(d.features),
          params: JSON.stringify(d.params),
          priority: d.priority,
          queue_priority: d.priority,
          resources: JSON.stringify(d.resources),
          timeout_seconds: d.timeoutSeconds,
          seed: d.seed,
          attempt: 0,
          attempts_allowed: d.maxAttempts,
          runner: null,
          queued_at: d.queuedAt,
          waiting_since: d.queuedAt,
          not_before: d.queuedAt,
          updated_at: d.queuedAt,
          position,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute()
      return
    }
    case 'TrainingAttemptStarted': {
      const d = event.data
      const result = await update({
        status: 'TRAINING',
        attempt: d.attempt,
        runner: d.runner,
        first_started_at: sql`coalesce(first_started_at, ${d.startedAt}::timestamptz)`,
        attempt_started_at: d.startedAt,
        deadline: d.deadline,
      })
      if (Number(result.numUpdatedRows) === 0) return
      await db
        .insertInto('run_attempts')
        .values({
          run_id: runId,
          attempt: d.attempt,
          runner: d.runner,
          priority: d.priority,
          started_at: d.startedAt,
          outcome: 'running',
        })
        .onConflict((oc) => oc.columns(['run_id', 'attempt']).doNothing())
        .execute()
      return
    }
    case 'TrainingAttemptFailed': {
      const d = event.data
      const result = await update({
        status: 'PENDING',
        queue_priority: d.retry.priority,
        waiting_since: d.retry.notBefore,
        not_before: d.retry.notBefore,
        attempt_started_at: null,
        failure: failureJson(d),
      })
      if (Number(result.numUpdatedRows) > 0)
        await endAttempt(db, runId, d.attempt, d.failedAt, 'retried', d)
      return
    }
    case 'TrainingRunFailed': {
      const d = event.data
      const result = await update({
        status: 'FAILED',
        finished_at: d.failedAt,
        attempt_started_at: null,
        failure: failureJson(d),
      })
      if (Number(result.numUpdatedRows) > 0 && d.attempt > 0) {
        await endAttempt(db, runId, d.attempt, d.failedAt, 'failed', d)
      }
      return
    }
    case 'TrainingRunDeadLettered': {
      const d = event.data
      const result = await update({
        status: 'DEAD_LETTERED',
        attempt_started_at: null,
        failure: failureJson({ ...d, reason: 'max_attempts' }),
      })
      if (Number(result.numUpdatedRows) > 0) {
        await endAttempt(db, runId, d.attempt, d.deadLetteredAt, 'dead_lettered', {
          ...d,
          reason: d.lastReason,
        })
      }
      return
    }
    case 'TrainingRunCancelled': {
      const d = event.data
      const message = `cancelled by ${d.by}`
      const result = await update({
        status: 'CANCELLED',
        finished_at: d.cancelledAt,
        attempt_started_at: null,
        failure: failureJson({
          reason: 'cancelled',
          message,
          logTail: '',
          attempt: d.attempt ?? 0,
        }),
      })
      if (Number(result.numUpdatedRows) > 0 && d.attempt !== null) {
        await endAttempt(db, runId, d.attempt, d.cancelledAt, 'cancelled', {
          reason: 'cancelled',
          message,
        })
      }
      return
    }
    case 'TrainingRunSucceeded': {
      const d = event.data
      const result = await update({
        status: 'READY',
        finished_at: d.succeededAt,
        attempt_started_at: null,
        failure: null,
        features: JSON.stringify(d.features),
        metrics: JSON.stringify(d.metrics),
        artifacts: JSON.stringify(d.artifacts),
      })
      if (Number(result.numUpdatedRows) > 0) {
        await endAttempt(db, runId, d.attempt, d.succeededAt, 'succeeded', {
          reason: null,
          message: null,
        })
      }
      return
    }
    case 'TrainingRunRetried': {
      const d = event.data
      await update({
        status: 'PENDING',
        attempts_allowed: d.attemptsAllowed,
        queue_priority: sql`priority`,
        waiting_since: d.retriedAt,
        not_before: d.retriedAt,
      })
      return
    }
    case 'TrainingRunDiscarded':
      await update({ status: 'FAILED', finished_at: event.data.discardedAt })
      return
    case 'TrainingRunArchived':
      // The record lives on in S3 (and the events); the read model forgets it.
      await db.deleteFrom('run_metrics').where('run_id', '=', runId).execute()
      await db.deleteFrom('run_attempts').where('run_id', '=', runId).execute()
      await db.deleteFrom('runs').where('id', '=', runId).execute()
      return
    default: {
      const unknownEvent: never = event
      void unknownEvent
      return
    }
  }
}

/** The `failure` column: why a run is not (or no longer) running, as the run view shows it. */
function failureJson(failure: {
  reason: string
  lastReason?: string
  message: string
  logTail: string
  attempt: number
  exitCode?: number
}): string {
  const { reason, lastReason, message, logTail, attempt, exitCode } = failure
  return JSON.stringify({
    reason,
    ...(lastReason !== undefined ? { lastReason } : {}),
    message,
    logTail,
    attempt,
    exitCode: exitCode ?? null,
  })
}

async function endAttempt(
  db: Db,
  runId: string,
  attempt: number,
  at: string,
  outcome: string,
  d: { reason: string | null; message: string | null; exitCode?: number },
): Promise<void> {
  await db
    .updateTable('run_attempts')
    .set({
      ended_at: at,
      outcome,
      reason: d.reason,
      message: d.message,
      exit_code: d.exitCode ?? null,
    })
    .where('run_id', '=', runId)
    .where('attempt', '=', attempt)
    .execute()
}

export async function truncateRuns(db: Db): Promise<void> {
  await sql`truncate table runs, run_attempts`.execute(db)
}

export function runsProjection(subjects: string): EventProjection<TrainingDatabase> {
  return {
    name: RUNS_PROJECTION,
    handles: RUN_EVENT_TYPES,
    subjects: [subjects],
    apply: applyRunEvent,
  }
}
