import { readFileSync } from 'node:fs'
import { idempotentId } from '@argmax/events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { QuotaView, RunDetailView, RunView } from '../../src/api/contract.ts'
import { childPids } from '../../src/runners/local/processes.ts'
import {
  moviesRun,
  startTrainingHarness,
  testClock,
  type TrainingHarness,
} from '../support/harness.ts'

const finished = (r: RunDetailView) =>
  ['READY', 'FAILED', 'CANCELLED', 'DEAD_LETTERED'].includes(r.status)

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).charAt(0) !== 'Z'
  } catch {
    return false
  }
}

/**
 * What goes wrong with jobs, against the real stack and real processes: the local runner
 * starts the trainer as a child process; the scripted test trainer plays the broken ones
 * (crashing, silent, wrong artifact), the real built-in trainer the ones that succeed.
 *
 * The heartbeat window is a minute: the silent trainer's test moves the injected clock over it
 * rather than waiting, and no trainer that works (the mismatch one trains for a while between
 * two heartbeats) loses its heartbeat on a busy machine.
 */
const HEARTBEAT_WINDOW_MS = 60_000

describe('failures, retries and dead letters', { timeout: 600_000 }, () => {
  let h: TrainingHarness
  let versionId: string
  const clock = testClock()
  let keyCount = 0

  /** Submits under a fresh key, so the run id is known before (its trainer mode set first). */
  async function submitWithMode(
    mode: string | undefined,
    overrides: Record<string, unknown> = {},
    attemptModes: Record<number, string> = {},
  ) {
    const key = `failures-${keyCount++}-${Date.now()}`
    const runId = idempotentId({ caller: 'alice', scope: 'training.run.create', key })
    if (mode) h.setMode(mode, runId)
    for (const [attempt, m] of Object.entries(attemptModes)) h.setMode(m, `${runId}.${attempt}`)
    const response = await h.submit(h.tokens.alice, moviesRun(versionId, overrides), key)
    expect(response.status, JSON.stringify(response.body)).toBe(201)
    expect((response.body['run'] as RunView).id).toBe(runId)
    return runId
  }

  function jobPid(runId: string, attempt: number): number {
    const pid = h.runner.pidOf({ runner: 'local', id: `${runId}.${attempt}`, runId, attempt })
    expect(pid).toBeDefined()
    return pid!
  }

  beforeAll(async () => {
    h = await startTrainingHarness({
      trainer: 'scripted',
      clock,
      slots: 2,
      heartbeatWindowSeconds: HEARTBEAT_WINDOW_MS / 1000,
      // A quarter of a second, doubling: what is tested is that retries come, in order and at
      // the right priority, not how long they wait (the run decider's unit tests cover that).
      retryBackoffSeconds: 0.25,
    })
    h.setMode('real')
    ;({ versionId } = await h.uploadVersion(h.tokens.alice))
    // More runs than a user's hour allows: what is tested here is what happens to them.
    const raised = await h.call('PUT', '/v1/runs/quotas/alice', h.tokens.root, {
      hourly: 100,
      daily: 100,
    })
    expect(raised.status).toBe(200)
  })
  afterAll(() => h?.stop())

  it('a trainer killed with SIGKILL is retried (low priority, from its checkpoint) and the run ends READY', async () => {
    const runId = await submitWithMode('real', {
      params: { n_estimators: 1500, learning_rate: 0.02, early_stopping_rounds: null },
      checkpointEvery: 50,
    })
    await h.waitForRun(
      runId,
      (r) => r.status === 'TRAINING' && (r.progress?.iteration ?? 0) >= 80,
      180_000,
    )
    const trainers = childPids(jobPid(runId, 1))
    expect(trainers.length).toBeGreaterThan(0)
    for (const pid of trainers) process.kill(pid, 'SIGKILL')
    const run = await h.waitForRun(runId, finished, 300_000)
    expect(run.status, JSON.stringify(run.failure)).toBe('READY')
    expect(run.attempts).toMatchObject([
      { attempt: 1, outcome: 'retried', reason: 'crashed', exitCode: 137, priority: 'normal' },
      { attempt: 2, outcome: 'succeeded', priority: 'low' },
    ])
    // Attempt 2 went on from the checkpoint of attempt 1, not from round one.
    const history = await h.call<{ items: Array<{ attempt: number; iteration: number }> }>(
      'GET',
      `/v1/runs/${runId}/metrics?attempt=2`,
      h.tokens.alice,
    )
    const second = history.body.items.filter((m) => m.iteration > 0)
    expect(Math.min(...second.map((m) => m.iteration))).toBeGreaterThanOrEqual(50)
  })

  it('a silent trainer fails heartbeat_lost within the window, its job is killed, and the retry ends READY', async () => {
    const runId = await submitWithMode('real', {}, { 1: 'silent' })
    const training = await h.waitForRun(runId, (r) => r.status === 'TRAINING')
    const started = Date.parse(training.attemptStartedAt!)
    // Inside the window a few scheduler rounds leave it alone; then the clock passes the window.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(await h.waitForRun(runId, () => true)).toMatchObject({ status: 'TRAINING', attempt: 1 })
    clock.advance(HEARTBEAT_WINDOW_MS)
    await h.waitForRun(runId, (r) => r.attempt === 2 || finished(r), 120_000)
    const pid = jobPid(runId, 1)
    expect(alive(pid)).toBe(false)
    const run = await h.waitForRun(runId, finished, 180_000)
    expect(run.status, JSON.stringify(run.failure)).toBe('READY')
    expect(run.attempts[0]).toMatchObject({
      attempt: 1,
      outcome: 'retried',
      reason: 'heartbeat_lost',
    })
    expect(run.attempts[0]!.message).toContain('no heartbeat for')
    // Failed after the window, and not long after (the scheduler's round is 250 ms here).
    const failedAfter = Date.parse(run.attempts[0]!.endedAt!) - started
    expect(failedAfter).toBeGreaterThanOrEqual(HEARTBEAT_WINDOW_MS)
    expect(failedAfter).toBeLessThan(HEARTBEAT_WINDOW_MS + 15_000)
  })

  it('a run that always crashes is dead-lettered after 3 attempts; an admin retry makes it READY once fixed', async () => {
    const runId = await submitWithMode('crash')
    const dead = await h.waitForRun(runId, finished, 120_000)
    expect(dead.status).toBe('DEAD_LETTERED')
    expect(dead.failure).toMatchObject({
      reason: 'max_attempts',
      lastReason: 'crashed',
      attempt: 3,
      exitCode: 1,
    })
    expect(dead.failure!.logTail).toContain('scripted crash')
    expect(dead.attempts.map((a) => [a.attempt, a.outcome, a.priority])).toEqual([
      [1, 'retried', 'normal'],
      [2, 'retried', 'low'],
      [3, 'dead_lettered', 'low'],
    ])
    const letters = await h.call<{ items: RunView[] }>(
      'GET',
      '/v1/runs/dead-letters',
      h.tokens.root,
    )
    expect(letters.body.items.map((r) => r.id)).toContain(runId)
    // Its slot is free while it waits for an operator.
    const waitForSlot = async (held: boolean) => {
      const deadline = Date.now() + 20_000
      for (;;) {
        const quota = (await h.call<QuotaView>('GET', '/v1/runs/quotas/alice', h.tokens.alice)).body
        if (quota.activeRuns.includes(runId) === held) return
        if (Date.now() > deadline) throw new Error(`slot of ${runId} not ${held ? 'held' : 'free'}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    await waitForSlot(false)

    h.setMode('real', runId)
    expect((await h.call('POST', `/v1/runs/${runId}/retry`, h.tokens.alice)).status).toBe(403)
    const retried = await h.call<{ run: RunView }>('POST', `/v1/runs/${runId}/retry`, h.tokens.root)
    expect(retried.status).toBe(200)
    expect(retried.body.run).toMatchObject({
      status: 'PENDING',
      maxAttempts: 6,
      queuePriority: 'normal',
    })
    const run = await h.waitForRun(runId, finished, 180_000)
    expect(run.status, JSON.stringify(run.failure)).toBe('READY')
    expect(run.attempts.at(-1)).toMatchObject({ attempt: 4, outcome: 'succeeded' })
    await waitForSlot(false)
  })

  it('a discarded dead letter ends FAILED (max_attempts)', async () => {
    const runId = await submitWithMode('crash')
    await h.waitForRun(runId, (r) => r.status === 'DEAD_LETTERED', 120_000)
    const discarded = await h.call<{ run: RunView }>(
      'POST',
      `/v1/runs/${runId}/discard`,
      h.tokens.root,
    )
    expect(discarded.status).toBe(200)
    expect(discarded.body.run).toMatchObject({
      status: 'FAILED',
      failure: { reason: 'max_attempts' },
    })
    expect((await h.call('POST', `/v1/runs/${runId}/retry`, h.tokens.root)).status).toBe(409)
  })

  it('a user error (exit 2) fails the run at once, without a retry', async () => {
    const runId = await submitWithMode('user_error')
    const run = await h.waitForRun(runId, finished, 60_000)
    expect(run).toMatchObject({
      status: 'FAILED',
      failure: { reason: 'user_error', attempt: 1, exitCode: 2 },
    })
    expect(run.attempts).toHaveLength(1)
    expect(run.failure!.logTail).toContain('scripted user error')
  })

  it('cancel kills the job', async () => {
    const runId = await submitWithMode('sleep')
    await h.waitForRun(runId, (r) => r.status === 'TRAINING' && r.progress !== null)
    const pid = jobPid(runId, 1)
    expect(alive(pid)).toBe(true)
    const cancelled = await h.call<{ run: RunView }>(
      'POST',
      `/v1/runs/${runId}/cancel`,
      h.tokens.alice,
    )
    expect(cancelled.status).toBe(200)
    expect(cancelled.body.run).toMatchObject({
      status: 'CANCELLED',
      failure: { reason: 'cancelled' },
    })
    expect(alive(pid)).toBe(false)
    // Cancelling again changes nothing.
    expect((await h.call('POST', `/v1/runs/${runId}/cancel`, h.tokens.alice)).status).toBe(200)
  })

  it('a run over its timeout fails `timeout` and its job is killed', async () => {
    const runId = await submitWithMode('sleep', { timeoutSeconds: 3600 })
    const training = await h.waitForRun(
      runId,
      (r) => r.status === 'TRAINING' && r.progress !== null,
    )
    expect(Date.parse(training.deadline!) - Date.parse(training.startedAt!)).toBe(3600_000)
    const pid = jobPid(runId, 1)
    clock.advance(3600_000 + 1000)
    const run = await h.waitForRun(runId, finished, 30_000)
    expect(run.status).toBe('FAILED')
    expect(run.failure).toMatchObject({ reason: 'timeout', attempt: 1 })
    expect(run.failure!.message).toContain('timeout of 3600 s')
    expect(alive(pid)).toBe(false)
  })

  it("an artifact that does not reproduce the trainer's predictions fails the run as artifact_mismatch", async () => {
    const runId = await submitWithMode('mismatch')
    const run = await h.waitForRun(runId, finished, 120_000)
    expect(run.status).toBe('FAILED')
    expect(run.failure).toMatchObject({ reason: 'artifact_mismatch', attempt: 1 })
    expect(run.failure!.message).toContain("output 'predictions'")
    expect(run.attempts).toHaveLength(1)
  })
})
