import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { QuotaView, RunView } from '../../src/api/contract.ts'
import { quotaSubject, runSubjects } from '../../src/streams.ts'
import {
  moviesRun,
  startTrainingHarness,
  testClock,
  type TrainingHarness,
  type User,
} from '../support/harness.ts'

const MINUTE = 60_000

/**
 * Quotas, exact: decided on each user's quota aggregate with the event store's expected
 * sequence and one submission of a user at a time in the process. The trainers here sleep
 * (scripted): what is measured is admission, not training.
 */
describe('quotas', { timeout: 300_000 }, () => {
  let h: TrainingHarness
  const clock = testClock()
  const versions: Partial<Record<User, string>> = {}
  beforeAll(async () => {
    h = await startTrainingHarness({ trainer: 'scripted', clock, slots: 2 })
    h.setMode('sleep')
    for (const user of ['alice', 'bob', 'ian'] as const) {
      versions[user] = (
        await h.uploadVersion(h.tokens[user], undefined, `movies-${user}`)
      ).versionId
    }
  })
  afterAll(() => h?.stop())

  const submit = (user: User) => h.submit(h.tokens[user], moviesRun(versions[user]!))

  async function quota(user: User): Promise<QuotaView> {
    const response = await h.call<QuotaView>('GET', `/v1/runs/quotas/${user}`, h.tokens[user])
    expect(response.status).toBe(200)
    return response.body
  }

  /** Cancels a run and waits until the quota consumer has given its slot back. */
  async function cancelAndRelease(user: User, runId: string): Promise<void> {
    expect((await h.call('POST', `/v1/runs/${runId}/cancel`, h.tokens[user])).status).toBe(200)
    const deadline = Date.now() + 30_000
    while ((await quota(user)).activeRuns.includes(runId)) {
      if (Date.now() > deadline) throw new Error(`run ${runId} still holds a slot`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  it('50 concurrent submissions by one user: exactly 3 accepted, 47 answered 429 naming the quota, nothing written for them', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => submit('alice')))
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((s) => s === 201)).toHaveLength(3)
    expect(statuses.filter((s) => s === 429)).toHaveLength(47)
    for (const refused of answers.filter((a) => a.status === 429)) {
      expect(refused.headers['retry-after']).toBe('60')
      expect(refused.headers['content-type']).toContain('application/problem+json')
      expect(refused.body).toMatchObject({
        status: 429,
        quota: 'concurrent',
        limit: 3,
        used: 3,
        retryAfterSeconds: 60,
      })
    }
    const admitted = await h.events(quotaSubject(h.names, 'alice'))
    expect(admitted.map((e) => e.type)).toEqual(['QuotaAdmitted', 'QuotaAdmitted', 'QuotaAdmitted'])
    const queued = (await h.events(runSubjects(h.names))).filter(
      (e) => e.type === 'TrainingRunQueued' && (e.data as { ownerId: string }).ownerId === 'alice',
    )
    expect(queued).toHaveLength(3)
    expect((await quota('alice')).usage).toEqual({ concurrent: 3, hourly: 3, daily: 3 })
  })

  it('an admin override raises one user’s limit; only admins set it', async () => {
    expect(
      (await h.call('PUT', '/v1/runs/quotas/alice', h.tokens.alice, { concurrent: 10 })).status,
    ).toBe(403)
    const set = await h.call<QuotaView>('PUT', '/v1/runs/quotas/alice', h.tokens.root, {
      concurrent: 4,
    })
    expect(set.status).toBe(200)
    expect(set.body).toMatchObject({
      limits: { concurrent: 4, hourly: 5, daily: 10 },
      override: { concurrent: 4 },
    })
    expect((await submit('alice')).status).toBe(201)
    expect((await submit('alice')).body).toMatchObject({ quota: 'concurrent', limit: 4 })
    expect((await h.call('GET', '/v1/runs/quotas/alice', h.tokens.bob)).status).toBe(403)
    // Back to the role's default.
    await h.call('PUT', '/v1/runs/quotas/alice', h.tokens.root, { concurrent: null })
    expect((await quota('alice')).limits.concurrent).toBe(3)
  })

  it('5 per rolling hour (Retry-After: when the oldest leaves the window), 10 per UTC day (until 00:00 UTC)', async () => {
    clock.set(new Date('2030-01-01T01:00:00Z'))
    const admit = async () => {
      const response = await submit('bob')
      expect(response.status, JSON.stringify(response.body)).toBe(201)
      await cancelAndRelease('bob', (response.body['run'] as RunView).id)
      clock.advance(MINUTE)
    }
    for (let i = 0; i < 5; i++) await admit()
    // 01:05: the 01:00 submission leaves the hour at 02:00, 55 minutes from now.
    const hourly = await submit('bob')
    expect(hourly.status).toBe(429)
    expect(hourly.body).toMatchObject({ quota: 'hourly', limit: 5, used: 5 })
    expect(Number(hourly.headers['retry-after'])).toBeGreaterThanOrEqual(3290)
    expect(Number(hourly.headers['retry-after'])).toBeLessThanOrEqual(3300)

    clock.set(new Date('2030-01-01T03:00:00Z'))
    for (let i = 0; i < 5; i++) await admit()
    // 03:05, ten today: the day is full until 00:00 UTC, 20 h 55 min away (the hour too).
    const daily = await submit('bob')
    expect(daily.status).toBe(429)
    expect(daily.body).toMatchObject({ quota: 'daily', limit: 10, used: 10 })
    expect((daily.body['exceeded'] as string[]).sort()).toEqual(['daily', 'hourly'])
    const wait = Number(daily.headers['retry-after'])
    expect(wait).toBeGreaterThanOrEqual(20 * 3600 + 55 * 60 - 10)
    expect(wait).toBeLessThanOrEqual(20 * 3600 + 55 * 60)

    clock.set(new Date('2030-01-02T00:00:01Z'))
    expect((await submit('bob')).status).toBe(201)
  })

  it('internal users get 50 a day (and high priority by default)', async () => {
    clock.set(new Date('2030-02-01T00:30:00Z'))
    for (let i = 0; i < 50; i++) {
      const response = await submit('ian')
      expect(response.status, `submission ${i + 1}: ${JSON.stringify(response.body)}`).toBe(201)
      expect((response.body['run'] as RunView).priority).toBe('high')
      await cancelAndRelease('ian', (response.body['run'] as RunView).id)
      // Five per rolling hour: one every 12 minutes stays within it.
      clock.advance(12 * MINUTE + 1000)
    }
    const refused = await submit('ian')
    expect(refused.status).toBe(429)
    expect(refused.body).toMatchObject({ quota: 'daily', limit: 50, used: 50 })
  })
})
