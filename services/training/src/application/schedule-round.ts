import { ConcurrencyError, IllegalStateError } from '@argmax/errors'
import { handleCommand, loadAggregate } from '@argmax/events'
import {
  queueOrder,
  runDecider,
  type AttemptFailureReason,
  type Priority,
  type RunResources,
} from '../domain/index.ts'
import { runsInStatus } from '../projections/runs.queries.ts'
import type { RunRow } from '../projections/tables.ts'
import type { JobRef, JobState } from '../runners/runner.ts'
import { runSubject } from '../streams.ts'
import { attemptSpec } from './attempt-spec.ts'
import { completeAttempt, SCHEDULER_ACTOR } from './complete-attempt.ts'
import type { TrainingDeps } from './dependencies.ts'

/** Log lines a failure carries (bounded again by the domain). */
const TAIL_LINES = 50
/** A started attempt whose job is not (yet) listed is given this long before it counts as lost. */
const START_GRACE_MS = 30_000

export interface RoundReport {
  started: string[]
  succeeded: string[]
  failed: Array<{ runId: string; attempt: number; reason: string }>
  killed: string[]
}

/**
 * Memory a scheduler keeps between rounds: attempts it started whose TRAINING row the read
 * model may not show yet (so capacity is not handed out twice).
 */
export interface SchedulerMemory {
  recentlyStarted: Map<string, { at: number; gpus: number; runId: string; attempt: number }>
}

export function newSchedulerMemory(): SchedulerMemory {
  return { recentlyStarted: new Map() }
}

type Deps = Pick<
  TrainingDeps,
  | 'store'
  | 'names'
  | 'db'
  | 's3'
  | 'bucket'
  | 'now'
  | 'settings'
  | 'runner'
  | 'heartbeats'
  | 'runTokens'
  | 'apiUrl'
  | 'logger'
>

/**
 * One round of the scheduler, run by the one process holding the lease:
 *
 * 1. every TRAINING run of this runner is checked against its job — past the run's deadline it
 *    fails `timeout` (job killed); a job that ended is finished (exit 0: the artifact is
 *    verified → READY or `artifact_mismatch`; otherwise the runner's reason: `user_error`,
 *    `crashed`, `timeout`); a running one silent for the heartbeat window fails
 *    `heartbeat_lost` (job killed); a job that is gone (lost with a restart or its node) fails
 *    `crashed` — the retryable ones go back to the queue at low priority;
 * 2. jobs whose run no longer trains them (cancelled, timed out, superseded) are killed;
 * 3. the queue (PENDING runs, read from the projection and confirmed on each run's events) is
 *    started in `queueOrder` while the runner has slots and GPUs: each start is the
 *    `TrainingAttemptStarted` event appended with the run's expected sequence — only one
 *    writer can win it — and only the winner asks the runner, whose `start` is idempotent per
 *    run and attempt.
 *
 * Every decision is an event appended with optimistic concurrency, so a round interrupted at
 * any point, or run twice, decides nothing twice.
 */
export async function scheduleRound(deps: Deps, memory: SchedulerMemory): Promise<RoundReport> {
  const report: RoundReport = { started: [], succeeded: [], failed: [], killed: [] }
  const runner = deps.runner
  const jobs = await runner.list()
  const jobByKey = new Map(jobs.map((job) => [key(job.runId, job.attempt), job]))
  const training = (await runsInStatus(deps.db, 'TRAINING')).filter(
    (row) => row.runner === runner.name,
  )
  const trainingKeys = new Set(training.map((row) => key(row.id, row.attempt)))
  // A start holds its slot only while the read model still shows the run waiting for that
  // attempt. Once it shows it training, the TRAINING row counts it; once it shows it ended — a
  // run cancelled before any round saw it train — the slot is free again.
  const waitingAttempt = new Map(
    (await runsInStatus(deps.db, 'PENDING')).map((row) => [row.id, row.attempt]),
  )
  for (const [k, start] of memory.recentlyStarted) {
    const stillWaiting = (waitingAttempt.get(start.runId) ?? Infinity) < start.attempt
    if (trainingKeys.has(k) || !stillWaiting || Date.now() - start.at > 60_000) {
      memory.recentlyStarted.delete(k)
    }
  }

  for (const row of training) {
    try {
      await checkTraining(deps, row, jobByKey.get(key(row.id, row.attempt)), report)
    } catch (error) {
      deps.logger.warn(
        { runId: row.id, attempt: row.attempt, err: String(error) },
        'checking a training run failed',
      )
    }
  }

  for (const job of jobs) {
    if (
      trainingKeys.has(key(job.runId, job.attempt)) ||
      memory.recentlyStarted.has(key(job.runId, job.attempt))
    ) {
      continue
    }
    try {
      await killIfStray(deps, job, report)
    } catch (error) {
      deps.logger.warn(
        { runId: job.runId, attempt: job.attempt, err: String(error) },
        'killing a stray job failed',
      )
    }
  }

  await dispatch(deps, memory, training, report)
  return report
}

async function checkTraining(
  deps: Deps,
  row: RunRow,
  job: JobRef | undefined,
  report: RoundReport,
): Promise<void> {
  const now = deps.now()
  const attempt = row.attempt
  const tail = () =>
    job ? deps.runner.logTail(job, TAIL_LINES).catch(() => '') : Promise.resolve('')
  if (row.deadline && now.getTime() >= row.deadline.getTime()) {
    if (job) await deps.runner.cancel(job)
    const outcome = await handleCommand(
      deps.store,
      runDecider,
      runSubject(deps.names, row.id),
      {
        type: 'TimeOutRun',
        data: {
          runId: row.id,
          message: `the run exceeded its timeout of ${row.timeout_seconds} s (deadline ${row.deadline.toISOString()}); the job was killed`,
          logTail: await tail(),
          now,
        },
      },
      { actor: SCHEDULER_ACTOR },
    )
    if (outcome.written > 0) report.failed.push({ runId: row.id, attempt, reason: 'timeout' })
    return
  }
  const state: JobState = job ? await deps.runner.state(job) : { state: 'missing' }
  switch (state.state) {
    case 'succeeded': {
      const result = await completeAttempt(deps, row.id, attempt, tail)
      if (result === 'succeeded') report.succeeded.push(row.id)
      if (result === 'artifact_mismatch')
        report.failed.push({ runId: row.id, attempt, reason: result })
      return
    }
    case 'failed':
      await failAttempt(
        deps,
        row,
        state.reason,
        state.message,
        await tail(),
        report,
        state.exitCode,
      )
      return
    case 'missing': {
      const startedAt = row.attempt_started_at?.getTime() ?? 0
      if (now.getTime() - startedAt < START_GRACE_MS) return
      await failAttempt(
        deps,
        row,
        'crashed',
        `the job of attempt ${attempt} is gone (lost with a restart of the service or its machine, or never started)`,
        '',
        report,
      )
      return
    }
    case 'pending':
    case 'running': {
      const last = await deps.heartbeats.latest(row.id)
      const lastAt =
        last && last.attempt === attempt
          ? Date.parse(last.receivedAt)
          : (row.attempt_started_at?.getTime() ?? now.getTime())
      const silentMs = now.getTime() - lastAt
      if (silentMs <= deps.settings.heartbeatWindowMs) return
      const logTail = await tail()
      if (job) await deps.runner.cancel(job)
      await failAttempt(
        deps,
        row,
        'heartbeat_lost',
        `no heartbeat for ${Math.round(silentMs / 1000)} s (the window is ${deps.settings.heartbeatWindowMs / 1000} s); the job was killed`,
        logTail,
        report,
      )
      return
    }
    default: {
      const unknownState: never = state
      return unknownState
    }
  }
}

async function failAttempt(
  deps: Deps,
  row: RunRow,
  reason: AttemptFailureReason,
  message: string,
  logTail: string,
  report: RoundReport,
  exitCode?: number,
): Promise<void> {
  const outcome = await handleCommand(
    deps.store,
    runDecider,
    runSubject(deps.names, row.id),
    {
      type: 'RecordAttemptFailure',
      data: {
        runId: row.id,
        attempt: row.attempt,
        reason,
        message,
        logTail,
        ...(exitCode !== undefined ? { exitCode } : {}),
        now: deps.now(),
        retry: deps.settings.retry,
      },
    },
    { actor: SCHEDULER_ACTOR },
  )
  if (outcome.written > 0) report.failed.push({ runId: row.id, attempt: row.attempt, reason })
}

/** A live job whose run no longer trains it: killed, after its events confirm it. */
async function killIfStray(deps: Deps, job: JobRef, report: RoundReport): Promise<void> {
  const state = await deps.runner.state(job)
  if (state.state !== 'running' && state.state !== 'pending') return
  const { state: run } = await loadAggregate(
    deps.store,
    runDecider,
    runSubject(deps.names, job.runId),
  )
  if (run.status === 'TRAINING' && run.attempt === job.attempt) return
  await deps.runner.cancel(job)
  report.killed.push(`${job.runId}.${job.attempt}`)
}

async function dispatch(
  deps: Deps,
  memory: SchedulerMemory,
  training: RunRow[],
  report: RoundReport,
): Promise<void> {
  const now = deps.now()
  const pending = await runsInStatus(deps.db, 'PENDING')
  // A retry waiting past the run's deadline will never start: it times out here.
  for (const row of pending.filter((r) => r.deadline && now.getTime() >= r.deadline.getTime())) {
    const outcome = await handleCommand(
      deps.store,
      runDecider,
      runSubject(deps.names, row.id),
      {
        type: 'TimeOutRun',
        data: {
          runId: row.id,
          message: `the run exceeded its timeout of ${row.timeout_seconds} s while waiting for a retry`,
          logTail: '',
          now,
        },
      },
      { actor: SCHEDULER_ACTOR },
    )
    if (outcome.written > 0)
      report.failed.push({ runId: row.id, attempt: row.attempt, reason: 'timeout' })
  }
  const capacity = deps.runner.capacity()
  let slotsUsed = training.length + memory.recentlyStarted.size
  let gpusUsed =
    training.reduce((sum, row) => sum + (row.resources as RunResources).gpus, 0) +
    [...memory.recentlyStarted.values()].reduce((sum, s) => sum + s.gpus, 0)
  const waiting = pending
    .filter((row) => !(row.deadline && now.getTime() >= row.deadline.getTime()))
    .map((row) => ({
      row,
      runId: row.id,
      priority: row.queue_priority as Priority,
      waitingSince: row.waiting_since,
      notBefore: row.not_before,
    }))
  for (const { row } of queueOrder(waiting, now, deps.settings.agingMs)) {
    if (slotsUsed >= capacity.slots) return
    const gpus = (row.resources as RunResources).gpus
    // Strict order: a run waiting for GPUs holds the line rather than be overtaken forever.
    if (gpusUsed + gpus > capacity.gpus) return
    const started = await startAttempt(deps, row.id, row.attempt + 1)
    if (started === undefined) continue
    memory.recentlyStarted.set(key(row.id, started), {
      at: Date.now(),
      gpus,
      runId: row.id,
      attempt: started,
    })
    slotsUsed++
    gpusUsed += gpus
    report.started.push(row.id)
  }
}

/** Decides the next attempt on the run's events, then (only if this call wrote it) starts it. */
async function startAttempt(
  deps: Deps,
  runId: string,
  attempt: number,
): Promise<number | undefined> {
  const subject = runSubject(deps.names, runId)
  let outcome
  try {
    outcome = await handleCommand(
      deps.store,
      runDecider,
      subject,
      { type: 'StartAttempt', data: { runId, attempt, runner: deps.runner.name, now: deps.now() } },
      { actor: SCHEDULER_ACTOR, maxRetries: 0 },
    )
  } catch (error) {
    // The read model was behind (cancelled, started by another scheduler): nothing to start.
    if (error instanceof IllegalStateError || error instanceof ConcurrencyError) return undefined
    throw error
  }
  if (outcome.written === 0) return undefined
  const state = outcome.state
  if (state.status !== 'TRAINING' || state.deadline === null) return undefined
  const spec = await attemptSpec(deps, state, attempt, new Date(state.deadline))
  try {
    await deps.runner.start(spec)
  } catch (error) {
    // Recorded as started: the next rounds find no job and fail the attempt (`crashed`,
    // retried), so the run is not stuck TRAINING.
    deps.logger.error(
      { runId, attempt, err: String(error) },
      'the runner could not start the attempt',
    )
  }
  deps.logger.info({ runId, attempt }, 'attempt started')
  return attempt
}

function key(runId: string, attempt: number): string {
  return `${runId}.${attempt}`
}
