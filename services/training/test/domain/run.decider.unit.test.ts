import { IdempotencyKeyReusedError, IllegalStateError, NotFoundError } from '@argmax/errors'
import { deciderSpec } from '@argmax/events'
import { describe, expect, it } from 'vitest'
import {
  boundLogTail,
  evolveRun,
  initialRunState,
  runDecider,
  MAX_LOG_TAIL_BYTES,
  type RunEvent,
  type RunState,
} from '../../src/domain/index.ts'
import { at, queued, queuedAt, queuedData, runId } from './fixtures.ts'

const runs = deciderSpec(runDecider)
const retry = { baseDelayMs: 60_000, maxDelayMs: 3_600_000 }
const t0 = at('2026-03-02T10:01:00.000Z')

const started = (
  attempt: number,
  startedAt: string,
  deadline = '2026-03-03T22:01:00.000Z',
): RunEvent => ({
  type: 'TrainingAttemptStarted',
  data: {
    runId,
    attempt,
    runner: 'local',
    priority: attempt === 1 ? 'normal' : 'low',
    startedAt,
    deadline,
  },
})

const failed = (attempt: number, failedAt: string, notBefore: string): RunEvent => ({
  type: 'TrainingAttemptFailed',
  data: {
    runId,
    attempt,
    reason: 'crashed',
    message: 'exit 1',
    logTail: 'boom',
    exitCode: 1,
    failedAt,
    retry: { attempt: attempt + 1, notBefore, priority: 'low' },
  },
})

function fold(events: RunEvent[]): RunState {
  return events.reduce(evolveRun, initialRunState)
}

describe('queueing', () => {
  it('queues a new run as PENDING, FIFO from its submission', () => {
    runs.given([]).when({ type: 'QueueRun', data: queuedData() }).then([queued()])
    const state = fold([queued()])
    expect(state).toMatchObject({
      status: 'PENDING',
      attempt: 0,
      attemptsAllowed: 3,
      waitingSince: queuedAt,
    })
  })

  it('answers a repeated create under the same key with no event, and refuses another body', () => {
    const first = queued({ requestHash: 'h1' })
    runs
      .given([first])
      .when({ type: 'QueueRun', data: queuedData({ requestHash: 'h1' }) })
      .then([])
    runs
      .given([first])
      .when({ type: 'QueueRun', data: queuedData({ requestHash: 'h2' }) })
      .thenThrows(IdempotencyKeyReusedError)
    runs.given([first]).when({ type: 'QueueRun', data: queuedData() }).thenThrows(IllegalStateError)
  })
})

describe('attempts', () => {
  it('starts the next attempt with a deadline of first start + timeout', () => {
    runs
      .given([queued()])
      .when({ type: 'StartAttempt', data: { runId, attempt: 1, runner: 'local', now: t0 } })
      .then([started(1, t0.toISOString())])
  })

  it('starting an attempt twice writes it once; another number is refused', () => {
    runs
      .given([queued(), started(1, t0.toISOString())])
      .when({ type: 'StartAttempt', data: { runId, attempt: 1, runner: 'local', now: t0 } })
      .then([])
    runs
      .given([queued()])
      .when({ type: 'StartAttempt', data: { runId, attempt: 2, runner: 'local', now: t0 } })
      .thenThrows(IllegalStateError, 'does not follow')
  })

  it('a crash is retried at low priority after the backoff; the deadline stays the first start’s', () => {
    const history = [queued(), started(1, t0.toISOString())]
    runs
      .given(history)
      .when({
        type: 'RecordAttemptFailure',
        data: {
          runId,
          attempt: 1,
          reason: 'crashed',
          message: 'exit 1',
          logTail: 'boom',
          exitCode: 1,
          now: at('2026-03-02T11:00:00.000Z'),
          retry,
        },
      })
      .then([failed(1, '2026-03-02T11:00:00.000Z', '2026-03-02T11:01:00.000Z')])
    const waiting = fold([
      ...history,
      failed(1, '2026-03-02T11:00:00.000Z', '2026-03-02T11:01:00.000Z'),
    ])
    expect(waiting).toMatchObject({
      status: 'PENDING',
      queuePriority: 'low',
      notBefore: '2026-03-02T11:01:00.000Z',
    })
    // Not before its backoff.
    runs
      .given([...history, failed(1, '2026-03-02T11:00:00.000Z', '2026-03-02T11:01:00.000Z')])
      .when({
        type: 'StartAttempt',
        data: { runId, attempt: 2, runner: 'local', now: at('2026-03-02T11:00:30.000Z') },
      })
      .thenThrows(IllegalStateError, 'waits for its retry')
    runs
      .given([...history, failed(1, '2026-03-02T11:00:00.000Z', '2026-03-02T11:01:00.000Z')])
      .when({
        type: 'StartAttempt',
        data: { runId, attempt: 2, runner: 'local', now: at('2026-03-02T11:02:00.000Z') },
      })
      .then([started(2, '2026-03-02T11:02:00.000Z')])
  })

  it('backs off exponentially: the second failure waits twice as long', () => {
    const history = [
      queued(),
      started(1, t0.toISOString()),
      failed(1, '2026-03-02T11:00:00.000Z', '2026-03-02T11:01:00.000Z'),
      started(2, '2026-03-02T11:02:00.000Z'),
    ]
    const [event] = runDecider.decide(
      {
        type: 'RecordAttemptFailure',
        data: {
          runId,
          attempt: 2,
          reason: 'heartbeat_lost',
          message: 'silent',
          logTail: '',
          now: at('2026-03-02T12:00:00.000Z'),
          retry,
        },
      },
      fold(history),
    )
    expect(event).toMatchObject({
      type: 'TrainingAttemptFailed',
      data: {
        reason: 'heartbeat_lost',
        retry: { attempt: 3, notBefore: '2026-03-02T12:02:00.000Z', priority: 'low' },
      },
    })
  })

  it('the last attempt failing dead-letters the run; an admin retry gives it more attempts', () => {
    const history = [
      queued(),
      started(1, t0.toISOString()),
      failed(1, '2026-03-02T11:00:00.000Z', '2026-03-02T11:01:00.000Z'),
      started(2, '2026-03-02T11:02:00.000Z'),
      failed(2, '2026-03-02T11:10:00.000Z', '2026-03-02T11:12:00.000Z'),
      started(3, '2026-03-02T11:13:00.000Z'),
    ]
    const now = at('2026-03-02T11:20:00.000Z')
    runs
      .given(history)
      .when({
        type: 'RecordAttemptFailure',
        data: {
          runId,
          attempt: 3,
          reason: 'crashed',
          message: 'exit 1',
          logTail: 'x',
          exitCode: 1,
          now,
          retry,
        },
      })
      .then([
        {
          type: 'TrainingRunDeadLettered',
          data: {
            runId,
            attempt: 3,
            message: 'exit 1',
            logTail: 'x',
            exitCode: 1,
            ownerId: 'alice',
            reason: 'max_attempts',
            lastReason: 'crashed',
            deadLetteredAt: now.toISOString(),
          },
        },
      ])
    const dead = [
      ...history,
      ...runDecider.decide(
        {
          type: 'RecordAttemptFailure',
          data: {
            runId,
            attempt: 3,
            reason: 'crashed',
            message: 'exit 1',
            logTail: 'x',
            now,
            retry,
          },
        },
        fold(history),
      ),
    ]
    expect(fold(dead)).toMatchObject({
      status: 'DEAD_LETTERED',
      failure: { reason: 'max_attempts' },
    })
    runs
      .given(dead)
      .when({ type: 'RetryDeadLettered', data: { runId, by: 'root', maxAttempts: 3, now } })
      .then([
        {
          type: 'TrainingRunRetried',
          data: {
            runId,
            ownerId: 'alice',
            by: 'root',
            attemptsAllowed: 6,
            retriedAt: now.toISOString(),
          },
        },
      ])
    const retried = fold([
      ...dead,
      {
        type: 'TrainingRunRetried',
        data: {
          runId,
          ownerId: 'alice',
          by: 'root',
          attemptsAllowed: 6,
          retriedAt: now.toISOString(),
        },
      },
    ])
    expect(retried).toMatchObject({
      status: 'PENDING',
      attemptsAllowed: 6,
      queuePriority: 'normal',
    })
    runs
      .given(dead)
      .when({ type: 'DiscardDeadLettered', data: { runId, by: 'root', now } })
      .then([
        {
          type: 'TrainingRunDiscarded',
          data: { runId, ownerId: 'alice', by: 'root', discardedAt: now.toISOString() },
        },
      ])
    runs
      .given([queued()])
      .when({ type: 'RetryDeadLettered', data: { runId, by: 'root', maxAttempts: 3, now } })
      .thenThrows(IllegalStateError)
  })

  it('user errors, timeouts and artifact mismatches fail the run at once', () => {
    for (const reason of ['user_error', 'timeout', 'artifact_mismatch'] as const) {
      const [event] = runDecider.decide(
        {
          type: 'RecordAttemptFailure',
          data: {
            runId,
            attempt: 1,
            reason,
            message: 'm',
            logTail: 't',
            exitCode: 2,
            now: t0,
            retry,
          },
        },
        fold([queued(), started(1, t0.toISOString())]),
      )
      expect(event).toMatchObject({
        type: 'TrainingRunFailed',
        data: { reason, attempt: 1, ownerId: 'alice' },
      })
    }
  })

  it('a late report about an attempt already decided changes nothing', () => {
    const history = [
      queued(),
      started(1, t0.toISOString()),
      failed(1, '2026-03-02T11:00:00.000Z', '2026-03-02T11:01:00.000Z'),
    ]
    runs
      .given(history)
      .when({
        type: 'RecordAttemptFailure',
        data: {
          runId,
          attempt: 1,
          reason: 'crashed',
          message: 'again',
          logTail: '',
          now: t0,
          retry,
        },
      })
      .then([])
  })

  it('a success of the current attempt makes it READY; of another, nothing', () => {
    const history = [queued(), started(1, t0.toISOString())]
    const state = fold(history)
    const success = {
      runId,
      attempt: 1,
      model: 'movies-rating',
      ownerId: 'alice',
      task: 'regression' as const,
      trainer: { name: 'xgboost', codeVersion: 'c0de' },
      target: 'IMDB Rating',
      features: ['Running Time min'],
      params: {},
      seed: 0,
      dataset: { datasetId: 'd1', versionId: 'v1', sha256: 'ab'.repeat(32) },
      artifacts: {
        model: {
          uri: 's3://argmax-models/runs/r/attempts/1/model.onnx',
          sha256: 'cd'.repeat(32),
          size: 10,
        },
        signature: {
          uri: 's3://argmax-models/runs/r/attempts/1/schema.json',
          sha256: 'ef'.repeat(32),
          size: 5,
        },
        metrics: {
          uri: 's3://argmax-models/runs/r/attempts/1/metrics.json',
          sha256: '01'.repeat(32),
          size: 5,
        },
      },
      metrics: { rmse: 0.9 },
      libraries: { xgboost: '1.7.4' },
      succeededAt: '2026-03-02T10:05:00.000Z',
    }
    expect(runDecider.decide({ type: 'RecordSuccess', data: success }, state)).toHaveLength(1)
    expect(
      runDecider.decide({ type: 'RecordSuccess', data: { ...success, attempt: 2 } }, state),
    ).toEqual([])
  })
})

describe('timeouts, cancel, archive', () => {
  it('times out only past the deadline, PENDING or TRAINING', () => {
    const history = [queued(), started(1, t0.toISOString(), '2026-03-02T12:00:00.000Z')]
    runs
      .given(history)
      .when({
        type: 'TimeOutRun',
        data: { runId, message: 'm', logTail: '', now: at('2026-03-02T11:59:59.000Z') },
      })
      .then([])
    const [event] = runDecider.decide(
      {
        type: 'TimeOutRun',
        data: { runId, message: 'over 2 h', logTail: 'last', now: at('2026-03-02T12:00:01.000Z') },
      },
      fold(history),
    )
    expect(event).toMatchObject({
      type: 'TrainingRunFailed',
      data: { reason: 'timeout', attempt: 1 },
    })
    runs
      .given([queued()])
      .when({
        type: 'TimeOutRun',
        data: { runId, message: 'm', logTail: '', now: at('2030-01-01T00:00:00Z') },
      })
      .then([])
  })

  it('refuses to start a retry past the deadline', () => {
    const history = [
      queued(),
      started(1, t0.toISOString(), '2026-03-02T12:00:00.000Z'),
      failed(1, '2026-03-02T11:00:00.000Z', '2026-03-02T11:01:00.000Z'),
    ]
    runs
      .given(history)
      .when({
        type: 'StartAttempt',
        data: { runId, attempt: 2, runner: 'local', now: at('2026-03-03T00:00:00Z') },
      })
      .thenThrows(IllegalStateError, 'past its timeout')
  })

  it('cancels a waiting or training run once; a finished one is a conflict', () => {
    const now = at('2026-03-02T10:30:00.000Z')
    runs
      .given([queued(), started(1, t0.toISOString())])
      .when({ type: 'CancelRun', data: { runId, by: 'alice', now } })
      .then([
        {
          type: 'TrainingRunCancelled',
          data: {
            runId,
            ownerId: 'alice',
            attempt: 1,
            by: 'alice',
            cancelledAt: now.toISOString(),
          },
        },
      ])
    const cancelled: RunEvent = {
      type: 'TrainingRunCancelled',
      data: { runId, ownerId: 'alice', attempt: null, by: 'alice', cancelledAt: now.toISOString() },
    }
    runs
      .given([queued(), cancelled])
      .when({ type: 'CancelRun', data: { runId, by: 'alice', now } })
      .then([])
    runs
      .given([
        queued(),
        {
          type: 'TrainingRunFailed',
          data: {
            runId,
            ownerId: 'alice',
            attempt: 0,
            reason: 'timeout',
            message: '',
            logTail: '',
            failedAt: queuedAt,
          },
        },
      ])
      .when({ type: 'CancelRun', data: { runId, by: 'alice', now } })
      .thenThrows(IllegalStateError, 'only a PENDING or TRAINING run')
    runs
      .given([])
      .when({ type: 'CancelRun', data: { runId, by: 'alice', now } })
      .thenThrows(NotFoundError)
  })

  it('archives a finished run once it is older than the retention', () => {
    const cancelled: RunEvent = {
      type: 'TrainingRunCancelled',
      data: { runId, ownerId: 'alice', attempt: null, by: 'alice', cancelledAt: queuedAt },
    }
    const archive = {
      uri: 's3://argmax-models/archive/runs/r.json',
      sha256: 'aa'.repeat(32),
      size: 100,
    }
    const retentionMs = 180 * 24 * 3600_000
    runs
      .given([queued(), cancelled])
      .when({
        type: 'ArchiveRun',
        data: { runId, archive, retentionMs, now: at('2026-05-01T00:00:00Z') },
      })
      .thenThrows(IllegalStateError, 'too recent')
    const now = at('2026-09-01T00:00:00Z')
    runs
      .given([queued(), cancelled])
      .when({ type: 'ArchiveRun', data: { runId, archive, retentionMs, now } })
      .then([
        { type: 'TrainingRunArchived', data: { runId, archive, archivedAt: now.toISOString() } },
      ])
    runs
      .given([queued()])
      .when({ type: 'ArchiveRun', data: { runId, archive, retentionMs, now } })
      .thenThrows(IllegalStateError)
  })
})

describe('bounded payloads', () => {
  it('cuts log tails to the last lines and bytes, so an event always fits NATS', () => {
    const long = Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(100)}`).join('\n')
    const tail = boundLogTail(long)
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(MAX_LOG_TAIL_BYTES)
    expect(tail.endsWith(`line 499 ${'x'.repeat(100)}`)).toBe(true)
    expect(Buffer.byteLength(boundLogTail('y'.repeat(100_000)))).toBeLessThanOrEqual(
      MAX_LOG_TAIL_BYTES,
    )
  })
})
