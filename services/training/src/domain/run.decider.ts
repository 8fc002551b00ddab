import type { StoredObject, TrainingRunSucceededData } from '@argmax/contracts'
import { IllegalStateError, NotFoundError } from '@argmax/errors'
import { isRepeatedCreate, type AggregateDecider } from '@argmax/events'
import { boundLogTail, boundMessage } from './log-tail.ts'
import { retryDelayMs, type RetryPolicy } from './retry-policy.ts'
import { RUN_EVENT_TYPES, type RunEvent, type TrainingRunQueued } from './run.events.ts'
import {
  isRetryable,
  type AttemptFailureReason,
  type FailureReason,
  type Priority,
  type RunStatus,
} from './run.types.ts'

export interface RunFailure {
  reason: FailureReason
  message: string
  logTail: string
  /** The attempt it happened in (0: none had started). */
  attempt: number
  exitCode?: number
}

export interface RunRecord {
  status: RunStatus
  /** Everything the run was submitted with. */
  queued: TrainingRunQueued['data']
  /** The last attempt started (0: none yet). */
  attempt: number
  /** The highest attempt number the run may reach before it is dead-lettered. */
  attemptsAllowed: number
  /** PENDING: not to be started before this (a retry's backoff). */
  notBefore: string
  /** PENDING: since when it waits, for first-come-first-served and aging. */
  waitingSince: string
  /** PENDING: the priority it waits at (`low` after a failed attempt). */
  queuePriority: Priority
  runner: string | null
  firstStartedAt: string | null
  attemptStartedAt: string | null
  /** First start + timeout: past it the run fails as `timeout`. */
  deadline: string | null
  finishedAt: string | null
  failure: RunFailure | null
  succeeded: TrainingRunSucceededData | null
  archived: boolean
}

export type RunState = { status: 'absent' } | RunRecord

export const initialRunState: RunState = { status: 'absent' }

export interface AttemptFailureInput {
  runId: string
  attempt: number
  reason: AttemptFailureReason
  message: string
  logTail: string
  exitCode?: number
  now: Date
}

export type RunCommand =
  | { type: 'QueueRun'; data: TrainingRunQueued['data'] }
  | { type: 'StartAttempt'; data: { runId: string; attempt: number; runner: string; now: Date } }
  | {
      type: 'RecordAttemptFailure'
      data: AttemptFailureInput & { retry: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'> }
    }
  | { type: 'RecordSuccess'; data: TrainingRunSucceededData }
  | { type: 'TimeOutRun'; data: { runId: string; message: string; logTail: string; now: Date } }
  | { type: 'CancelRun'; data: { runId: string; by: string; now: Date } }
  | {
      type: 'RetryDeadLettered'
      data: { runId: string; by: string; maxAttempts: number; now: Date }
    }
  | { type: 'DiscardDeadLettered'; data: { runId: string; by: string; now: Date } }
  | {
      type: 'ArchiveRun'
      data: { runId: string; archive: StoredObject; retentionMs: number; now: Date }
    }

export function evolveRun(state: RunState, event: RunEvent): RunState {
  if (event.type === 'TrainingRunQueued') {
    const d = event.data
    return {
      status: 'PENDING',
      queued: d,
      attempt: 0,
      attemptsAllowed: d.maxAttempts,
      notBefore: d.queuedAt,
      waitingSince: d.queuedAt,
      queuePriority: d.priority,
      runner: null,
      firstStartedAt: null,
      attemptStartedAt: null,
      deadline: null,
      finishedAt: null,
      failure: null,
      succeeded: null,
      archived: false,
    }
  }
  if (state.status === 'absent') return state
  switch (event.type) {
    case 'TrainingAttemptStarted': {
      const d = event.data
      return {
        ...state,
        status: 'TRAINING',
        attempt: d.attempt,
        runner: d.runner,
        firstStartedAt: state.firstStartedAt ?? d.startedAt,
        attemptStartedAt: d.startedAt,
        deadline: d.deadline,
      }
    }
    case 'TrainingAttemptFailed': {
      const d = event.data
      return {
        ...state,
        status: 'PENDING',
        notBefore: d.retry.notBefore,
        waitingSince: d.retry.notBefore,
        queuePriority: d.retry.priority,
        attemptStartedAt: null,
        failure: failureOf(d, d.reason),
      }
    }
    case 'TrainingRunSucceeded':
      return {
        ...state,
        status: 'READY',
        finishedAt: event.data.succeededAt,
        succeeded: event.data,
        failure: null,
      }
    case 'TrainingRunFailed':
      return {
        ...state,
        status: 'FAILED',
        finishedAt: event.data.failedAt,
        failure: failureOf(event.data, event.data.reason),
      }
    case 'TrainingRunDeadLettered':
      return {
        ...state,
        status: 'DEAD_LETTERED',
        failure: failureOf(event.data, 'max_attempts'),
      }
    case 'TrainingRunCancelled':
      return {
        ...state,
        status: 'CANCELLED',
        finishedAt: event.data.cancelledAt,
        failure: {
          reason: 'cancelled',
          message: `cancelled by ${event.data.by}`,
          logTail: '',
          attempt: event.data.attempt ?? state.attempt,
        },
      }
    case 'TrainingRunRetried':
      return {
        ...state,
        status: 'PENDING',
        attemptsAllowed: event.data.attemptsAllowed,
        notBefore: event.data.retriedAt,
        waitingSince: event.data.retriedAt,
        queuePriority: state.queued.priority,
        attemptStartedAt: null,
      }
    case 'TrainingRunDiscarded':
      return { ...state, status: 'FAILED', finishedAt: event.data.discardedAt }
    case 'TrainingRunArchived':
      return { ...state, archived: true }
    default: {
      const unknownEvent: never = event
      return unknownEvent
    }
  }
}

function failureOf(
  d: { attempt: number; message: string; logTail: string; exitCode?: number },
  reason: FailureReason,
): RunFailure {
  return {
    reason,
    message: d.message,
    logTail: d.logTail,
    attempt: d.attempt,
    ...(d.exitCode !== undefined ? { exitCode: d.exitCode } : {}),
  }
}

export function decideRun(command: RunCommand, state: RunState): RunEvent[] {
  switch (command.type) {
    case 'QueueRun': {
      const d = command.data
      if (state.status !== 'absent') {
        // The same request again under the same key: queued already, nothing to record.
        if (isRepeatedCreate(state.queued.requestHash, d.requestHash)) return []
        throw new IllegalStateError(`run ${d.runId} already exists`)
      }
      return [{ type: 'TrainingRunQueued', data: d }]
    }
    case 'StartAttempt': {
      const { runId, attempt, runner, now } = command.data
      const run = requireRun(state, runId)
      // Someone (another scheduler, a retry of this one) started it already: nothing to do.
      if (run.attempt >= attempt) return []
      if (run.status !== 'PENDING') {
        throw new IllegalStateError(`run ${runId} is ${run.status}: only a PENDING run can start`)
      }
      if (attempt !== run.attempt + 1) {
        throw new IllegalStateError(
          `run ${runId}: attempt ${attempt} does not follow ${run.attempt}`,
        )
      }
      if (attempt > run.attemptsAllowed) {
        throw new IllegalStateError(`run ${runId} has used its ${run.attemptsAllowed} attempts`)
      }
      if (Date.parse(run.notBefore) > now.getTime()) {
        throw new IllegalStateError(`run ${runId} waits for its retry until ${run.notBefore}`)
      }
      const deadline = deadlineOf(run, now)
      if (deadline.getTime() <= now.getTime()) {
        throw new IllegalStateError(`run ${runId} is past its timeout (${deadline.toISOString()})`)
      }
      return [
        {
          type: 'TrainingAttemptStarted',
          data: {
            runId,
            attempt,
            runner,
            priority: run.queuePriority,
            startedAt: now.toISOString(),
            deadline: deadline.toISOString(),
          },
        },
      ]
    }
    case 'RecordAttemptFailure': {
      const d = command.data
      const run = requireRun(state, d.runId)
      // Only the attempt in progress can fail: a late report (a redelivery, a job found again)
      // about an attempt already decided changes nothing.
      if (run.status !== 'TRAINING' || run.attempt !== d.attempt) return []
      const at = d.now.toISOString()
      const common = {
        runId: d.runId,
        attempt: d.attempt,
        message: boundMessage(d.message),
        logTail: boundLogTail(d.logTail),
        ...(d.exitCode !== undefined ? { exitCode: d.exitCode } : {}),
      }
      if (!isRetryable(d.reason)) {
        return [
          {
            type: 'TrainingRunFailed',
            data: {
              ...common,
              ownerId: run.queued.ownerId,
              reason: d.reason as 'user_error' | 'timeout' | 'artifact_mismatch',
              failedAt: at,
            },
          },
        ]
      }
      if (d.attempt >= run.attemptsAllowed) {
        return [
          {
            type: 'TrainingRunDeadLettered',
            data: {
              ...common,
              ownerId: run.queued.ownerId,
              reason: 'max_attempts',
              lastReason: d.reason,
              deadLetteredAt: at,
            },
          },
        ]
      }
      const notBefore = new Date(d.now.getTime() + retryDelayMs(d.retry, d.attempt))
      return [
        {
          type: 'TrainingAttemptFailed',
          data: {
            runId: d.runId,
            attempt: d.attempt,
            reason: d.reason,
            message: common.message,
            logTail: common.logTail,
            ...(d.exitCode !== undefined ? { exitCode: d.exitCode } : {}),
            failedAt: at,
            retry: { attempt: d.attempt + 1, notBefore: notBefore.toISOString(), priority: 'low' },
          },
        },
      ]
    }
    case 'RecordSuccess': {
      const d = command.data
      const run = requireRun(state, d.runId)
      if (run.status !== 'TRAINING' || run.attempt !== d.attempt) return []
      return [{ type: 'TrainingRunSucceeded', data: d }]
    }
    case 'TimeOutRun': {
      const { runId, now } = command.data
      const run = requireRun(state, runId)
      if (run.status !== 'TRAINING' && run.status !== 'PENDING') return []
      if (run.deadline === null || Date.parse(run.deadline) > now.getTime()) return []
      return [
        {
          type: 'TrainingRunFailed',
          data: {
            runId,
            ownerId: run.queued.ownerId,
            attempt: run.attempt,
            reason: 'timeout',
            message: boundMessage(command.data.message),
            logTail: boundLogTail(command.data.logTail),
            failedAt: now.toISOString(),
          },
        },
      ]
    }
    case 'CancelRun': {
      const { runId, by, now } = command.data
      const run = requireRun(state, runId)
      if (run.status === 'CANCELLED') return []
      if (run.status !== 'PENDING' && run.status !== 'TRAINING') {
        throw new IllegalStateError(
          `run ${runId} is ${run.status}: only a PENDING or TRAINING run can be cancelled`,
        )
      }
      return [
        {
          type: 'TrainingRunCancelled',
          data: {
            runId,
            ownerId: run.queued.ownerId,
            attempt: run.status === 'TRAINING' ? run.attempt : null,
            by,
            cancelledAt: now.toISOString(),
          },
        },
      ]
    }
    case 'RetryDeadLettered': {
      const { runId, by, maxAttempts, now } = command.data
      const run = requireRun(state, runId)
      if (run.status !== 'DEAD_LETTERED') {
        throw new IllegalStateError(
          `run ${runId} is ${run.status}: only a DEAD_LETTERED run can be retried`,
        )
      }
      return [
        {
          type: 'TrainingRunRetried',
          data: {
            runId,
            ownerId: run.queued.ownerId,
            by,
            attemptsAllowed: run.attempt + maxAttempts,
            retriedAt: now.toISOString(),
          },
        },
      ]
    }
    case 'DiscardDeadLettered': {
      const { runId, by, now } = command.data
      const run = requireRun(state, runId)
      if (run.status !== 'DEAD_LETTERED') {
        throw new IllegalStateError(
          `run ${runId} is ${run.status}: only a DEAD_LETTERED run can be discarded`,
        )
      }
      return [
        {
          type: 'TrainingRunDiscarded',
          data: { runId, ownerId: run.queued.ownerId, by, discardedAt: now.toISOString() },
        },
      ]
    }
    case 'ArchiveRun': {
      const { runId, archive, retentionMs, now } = command.data
      const run = requireRun(state, runId)
      if (run.archived) return []
      if (run.finishedAt === null || !['READY', 'FAILED', 'CANCELLED'].includes(run.status)) {
        throw new IllegalStateError(
          `run ${runId} is ${run.status}: only finished runs are archived`,
        )
      }
      if (Date.parse(run.finishedAt) + retentionMs > now.getTime()) {
        throw new IllegalStateError(
          `run ${runId} finished at ${run.finishedAt}: too recent to archive`,
        )
      }
      return [
        { type: 'TrainingRunArchived', data: { runId, archive, archivedAt: now.toISOString() } },
      ]
    }
    default: {
      const unknownCommand: never = command
      return unknownCommand
    }
  }
}

/** The run's timeout counts from its first attempt's start: retries do not extend it. */
export function deadlineOf(run: RunRecord, now: Date): Date {
  if (run.deadline !== null) return new Date(run.deadline)
  return new Date(now.getTime() + run.queued.timeoutSeconds * 1000)
}

export function requireRun(state: RunState, runId: string): RunRecord {
  if (state.status === 'absent') throw new NotFoundError('run', runId)
  return state
}

export const runDecider = {
  decide: decideRun,
  evolve: evolveRun,
  initialState: initialRunState,
  eventTypes: RUN_EVENT_TYPES,
} satisfies AggregateDecider<RunCommand, RunEvent, RunState>
