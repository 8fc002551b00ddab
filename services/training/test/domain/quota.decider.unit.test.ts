import { deciderSpec } from '@argmax/events'
import { describe, expect, it } from 'vitest'
import {
  CONCURRENCY_RETRY_AFTER_SECONDS,
  QuotaExceededError,
  evolveQuota,
  initialQuotaState,
  quotaDecider,
  quotaUsage,
  type QuotaEvent,
  type QuotaLimits,
  type QuotaState,
} from '../../src/domain/index.ts'

const quotas = deciderSpec(quotaDecider)
const user: QuotaLimits = { concurrent: 3, hourly: 5, daily: 10 }
const userId = 'alice'

const admitted = (
  runId: string,
  at: string,
  reason: 'submission' | 'reconciled' | 'admin_retry' = 'submission',
): QuotaEvent => ({
  type: 'QuotaAdmitted',
  data: { userId, runId, admittedAt: at, reason },
})
const released = (
  runId: string,
  at: string,
  reason: 'finished' | 'orphaned' = 'finished',
): QuotaEvent => ({
  type: 'QuotaReleased',
  data: { userId, runId, releasedAt: at, reason },
})
const fold = (events: QuotaEvent[]): QuotaState => events.reduce(evolveQuota, initialQuotaState)

function refusal(
  events: QuotaEvent[],
  runId: string,
  now: string,
  defaults = user,
): QuotaExceededError {
  try {
    quotaDecider.decide(
      { type: 'Admit', data: { userId, runId, defaults, now: new Date(now) } },
      fold(events),
    )
  } catch (error) {
    if (error instanceof QuotaExceededError) return error
    throw error
  }
  throw new Error(`${runId} was admitted`)
}

describe('the concurrency quota', () => {
  it('admits up to the limit, then refuses naming the quota; a release makes room', () => {
    const three = [
      admitted('r1', '2026-03-02T10:00:00.000Z'),
      admitted('r2', '2026-03-02T10:01:00.000Z'),
      admitted('r3', '2026-03-02T10:02:00.000Z'),
    ]
    const error = refusal(three, 'r4', '2026-03-02T10:03:00.000Z')
    expect(error).toMatchObject({
      quota: 'concurrent',
      limit: 3,
      used: 3,
      retryAfterSeconds: CONCURRENCY_RETRY_AFTER_SECONDS,
    })
    expect(error.details).toMatchObject({
      quota: 'concurrent',
      limit: 3,
      used: 3,
      exceeded: ['concurrent'],
    })
    quotas
      .given([...three, released('r2', '2026-03-02T10:04:00.000Z')])
      .when({
        type: 'Admit',
        data: { userId, runId: 'r4', defaults: user, now: new Date('2026-03-02T10:05:00.000Z') },
      })
      .then([admitted('r4', '2026-03-02T10:05:00.000Z')])
  })

  it('an admission is idempotent per run; a release of a run without a slot writes nothing', () => {
    const full = [
      admitted('r1', '2026-03-02T10:00:00.000Z'),
      admitted('r2', '2026-03-02T10:01:00.000Z'),
      admitted('r3', '2026-03-02T10:02:00.000Z'),
    ]
    // r3 again (a retried submission) passes without a new event, even at the limit.
    quotas
      .given(full)
      .when({
        type: 'Admit',
        data: { userId, runId: 'r3', defaults: user, now: new Date('2026-03-02T10:03:00.000Z') },
      })
      .then([])
    quotas
      .given(full)
      .when({ type: 'Release', data: { userId, runId: 'r9', reason: 'finished', now: new Date() } })
      .then([])
    quotas
      .given([...full, released('r1', '2026-03-02T10:05:00.000Z')])
      .when({ type: 'Release', data: { userId, runId: 'r1', reason: 'finished', now: new Date() } })
      .then([])
  })

  it('admin retries and reconciled runs hold a slot without counting as submissions', () => {
    const state = fold([
      admitted('r1', '2026-03-02T10:00:00.000Z', 'admin_retry'),
      admitted('r2', '2026-03-02T10:00:00.000Z', 'reconciled'),
    ])
    expect(quotaUsage(state, new Date('2026-03-02T10:00:01.000Z'))).toEqual({
      concurrent: 2,
      hourly: 0,
      daily: 0,
    })
  })
})

describe('the rolling hour', () => {
  it('refuses the 6th submission within an hour until the oldest leaves the window', () => {
    const five = ['10:00', '10:10', '10:20', '10:30', '10:40'].flatMap((hm, i) => [
      admitted(`r${i}`, `2026-03-02T${hm}:00.000Z`),
      released(`r${i}`, `2026-03-02T${hm}:30.000Z`),
    ])
    const error = refusal(five, 'r9', '2026-03-02T10:50:00.000Z')
    // The 10:00 submission leaves the window at 11:00: in 600 s.
    expect(error).toMatchObject({ quota: 'hourly', limit: 5, used: 5, retryAfterSeconds: 600 })
    quotas
      .given(five)
      .when({
        type: 'Admit',
        data: { userId, runId: 'r9', defaults: user, now: new Date('2026-03-02T11:00:00.001Z') },
      })
      .then([admitted('r9', '2026-03-02T11:00:00.001Z')])
  })

  it('an orphaned admission (its run was never written) stops counting', () => {
    const five = ['10:00', '10:10', '10:20', '10:30', '10:40'].flatMap((hm, i) => [
      admitted(`r${i}`, `2026-03-02T${hm}:00.000Z`),
      released(`r${i}`, `2026-03-02T${hm}:30.000Z`, i === 2 ? 'orphaned' : 'finished'),
    ])
    expect(quotaUsage(fold(five), new Date('2026-03-02T10:50:00.000Z')).hourly).toBe(4)
  })
})

describe('the UTC day', () => {
  it('refuses the 11th submission of a UTC day until 00:00 UTC; the next day starts afresh', () => {
    const ten = Array.from({ length: 10 }, (_, i) => {
      const at = new Date(Date.UTC(2026, 2, 2, 1 + 2 * i, 0, 0)).toISOString()
      return [admitted(`r${i}`, at), released(`r${i}`, at)]
    }).flat()
    const error = refusal(ten, 'r10', '2026-03-02T23:30:00.000Z')
    expect(error).toMatchObject({ quota: 'daily', limit: 10, used: 10, retryAfterSeconds: 1800 })
    quotas
      .given(ten)
      .when({
        type: 'Admit',
        data: { userId, runId: 'r10', defaults: user, now: new Date('2026-03-03T00:00:00.000Z') },
      })
      .then([admitted('r10', '2026-03-03T00:00:00.000Z')])
  })

  it('names the quota that keeps the caller waiting longest when several are full', () => {
    const events = Array.from({ length: 10 }, (_, i) =>
      admitted(`r${i}`, new Date(Date.UTC(2026, 2, 2, 22, 55 + i * 0.1)).toISOString()),
    )
    const error = refusal(events, 'rx', '2026-03-02T23:00:00.000Z')
    expect(error.quota).toBe('daily')
    expect(error.exceeded.sort()).toEqual(['concurrent', 'daily', 'hourly'])
  })
})

describe('overrides', () => {
  it('an admin override wins field by field over the role defaults', () => {
    const override: QuotaEvent = {
      type: 'QuotaOverrideSet',
      data: { userId, override: { concurrent: 5 }, by: 'root', setAt: '2026-03-02T09:00:00.000Z' },
    }
    const four = [
      override,
      ...['10:00', '10:01', '10:02', '10:03'].map((hm, i) =>
        admitted(`r${i}`, `2026-03-02T${hm}:00.000Z`),
      ),
    ]
    // concurrency 5 now, but the hourly 5 still applies.
    quotas
      .given(four)
      .when({
        type: 'Admit',
        data: { userId, runId: 'r5', defaults: user, now: new Date('2026-03-02T10:04:00.000Z') },
      })
      .then([admitted('r5', '2026-03-02T10:04:00.000Z')])
    expect(
      refusal(
        [...four, admitted('r5', '2026-03-02T10:04:00.000Z')],
        'r6',
        '2026-03-02T10:05:00.000Z',
      ).quota,
    ).toBe('hourly')
    quotas
      .given([override])
      .when({
        type: 'SetOverride',
        data: { userId, override: { concurrent: 5 }, by: 'root', now: new Date() },
      })
      .then([])
  })
})
