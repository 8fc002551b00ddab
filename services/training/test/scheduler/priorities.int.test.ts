import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunView } from '../../src/api/contract.ts'
import { runSubjects } from '../../src/streams.ts'
import {
  moviesRun,
  startTrainingHarness,
  testClock,
  type TrainingHarness,
  type User,
} from '../support/harness.ts'

/**
 * The queue with one slot: high before normal before low, first come first served within a
 * priority, and aging (one level per 30 minutes waited) so an old low run passes newer normal
 * ones. Trainers sleep (scripted); the order is read from the TrainingAttemptStarted events.
 */
describe('priorities and aging', { timeout: 300_000 }, () => {
  let h: TrainingHarness
  const clock = testClock()
  const versions: Partial<Record<User, string>> = {}

  beforeAll(async () => {
    h = await startTrainingHarness({ trainer: 'scripted', clock, slots: 1, agingMinutes: 30 })
    h.setMode('sleep')
    for (const user of ['alice', 'ian'] as const) {
      versions[user] = (
        await h.uploadVersion(h.tokens[user], undefined, `movies-${user}`)
      ).versionId
      const raised = await h.call('PUT', `/v1/runs/quotas/${user}`, h.tokens.root, {
        concurrent: 20,
        hourly: 100,
        daily: 100,
      })
      expect(raised.status).toBe(200)
    }
  })
  afterAll(() => h?.stop())

  async function submit(user: User, priority?: 'high' | 'normal' | 'low'): Promise<string> {
    const response = await h.submit(
      h.tokens[user],
      moviesRun(versions[user]!, priority ? { priority } : {}),
    )
    expect(response.status, JSON.stringify(response.body)).toBe(201)
    return (response.body['run'] as RunView).id
  }

  async function startedOrder(): Promise<string[]> {
    return (await h.events(runSubjects(h.names)))
      .filter((e) => e.type === 'TrainingAttemptStarted')
      .map((e) => (e.data as { runId: string }).runId)
  }

  /** Cancels whatever trains, one after another, until `count` more runs have started. */
  async function drain(count: number): Promise<string[]> {
    const before = (await startedOrder()).length
    const deadline = Date.now() + 120_000
    for (;;) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} runs started`)
      const order = await startedOrder()
      if (order.length >= before + count) return order.slice(before)
      const training = await h.call<{ items: RunView[] }>(
        'GET',
        '/v1/runs?status=TRAINING',
        h.tokens.root,
      )
      for (const run of training.body.items) {
        await h.call('POST', `/v1/runs/${run.id}/cancel`, h.tokens.root)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  async function waitTraining(runId: string): Promise<void> {
    await h.waitForRun(runId, (r) => r.status === 'TRAINING')
  }

  it('starts high before normal before low, first come first served within each', async () => {
    const blocker = await submit('alice')
    await waitTraining(blocker)
    const low = await submit('alice', 'low')
    const normal1 = await submit('alice')
    const high1 = await submit('ian')
    const normal2 = await submit('alice', 'normal')
    const high2 = await submit('ian', 'high')
    // Cancel the blocker, then each run as it starts: the slot goes to the queue's head.
    expect(await drain(5)).toEqual([high1, high2, normal1, normal2, low])
    expect((await h.call('POST', `/v1/runs/${low}/cancel`, h.tokens.root)).status).toBe(200)
  })

  it('ages a waiting low run so that it passes normal runs submitted after it', async () => {
    const blocker = await submit('alice')
    await waitTraining(blocker)
    const low = await submit('alice', 'low')
    const normalBefore = await submit('alice')
    clock.advance(31 * 60_000)
    const normalAfter = await submit('alice')
    // The low run now counts as normal and has waited longer than the newer normal run; the
    // older normal run still goes first (it waited longest of all).
    expect(await drain(3)).toEqual([normalBefore, low, normalAfter])
  })
})
