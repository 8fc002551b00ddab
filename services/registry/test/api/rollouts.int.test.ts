import { randomUUID } from 'node:crypto'
import type { Release } from '@argmax/contracts'
import { createLogger } from '@argmax/telemetry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handleCommand, loadAggregate } from '@argmax/events'
import { changeRelease } from '../../src/application/change-release.ts'
import { clickhouseTrafficSignals, readStepSignals } from '../../src/application/rollout-signals.ts'
import { rolloutDecider } from '../../src/domain/index.ts'
import { ROLLOUTS_PRINCIPAL } from '../../src/application/advance-rollout.ts'
import { startRegistryService } from '../../src/service.ts'
import { releaseSubject, rolloutSubject } from '../../src/streams.ts'
import { startHarness, type Harness } from '../support/harness.ts'
import {
  annotationsOf,
  modelWithVersions,
  release,
  rollout,
  SECOND,
  tickUntil,
  traffic,
  type RolloutAnswer,
} from '../support/rollouts.ts'
import { eventually } from '@argmax/testkit'

const WINDOW_SECONDS = 600

const reasonBody = { reason: 'checked the dashboards' }

describe('rollouts', () => {
  let h: Harness
  const start = (body: object, token = h.tokens.alice, key = randomUUID()) =>
    h.call<RolloutAnswer>('POST', '/v1/rollouts', token, body, { 'idempotency-key': key })
  const operate = (id: string, operation: string, token = h.tokens.admin) =>
    h.call<RolloutAnswer>('POST', `/v1/rollouts/${id}/${operation}`, token, reasonBody)

  beforeAll(async () => {
    h = await startHarness({ analytics: true })
    await modelWithVersions(h, 'bad-canary', 'alice', 2)
    await modelWithVersions(h, 'good-canary', 'alice', 2)
    await modelWithVersions(h, 'operated', 'alice', 3)
    await modelWithVersions(h, 'quiet-canary', 'alice', 2)
  })
  afterAll(() => h.stop())

  it('rolls a failing canary back at once: canary removed, stable unchanged, candidate rejected', async () => {
    const started = await start({
      model: 'bad-canary',
      candidate: '2',
      reason: 'v2 beat v1 on the holdout',
      criteria: { windowSeconds: WINDOW_SECONDS, minRequests: 50 },
    })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.rollout.rolloutId
    expect(id).toBe('bad-canary.1')
    await tickUntil(h, 'the first step in the release', async () => {
      const r = await release(h, 'bad-canary')
      return r?.canary?.percent === 10 ? r : undefined
    })
    expect(await release(h, 'bad-canary')).toEqual({
      stable: 1,
      canary: { version: 2, percent: 10 },
    })

    const stepStart = h.clock.now()
    await traffic(
      h,
      { model: 'bad-canary', version: 1, variant: 'stable', start: stepStart },
      {
        requests: 450,
        errors: 1,
        latencyMs: 20,
      },
    )
    await traffic(
      h,
      { model: 'bad-canary', version: 2, variant: 'canary', start: stepStart },
      {
        requests: 50,
        errors: 9,
        latencyMs: 25,
      },
    )
    // Not judged before the window has been held, whatever the traffic says.
    h.clock.advance((WINDOW_SECONDS - 30) * SECOND)
    expect((await h.service.workers.rollouts.runOnce()).advanced).toEqual({})
    h.clock.advance(60 * SECOND)
    const report = await h.service.workers.rollouts.runOnce()
    expect(report.advanced['bad-canary']).toEqual(['judge', 'revert'])

    expect(await release(h, 'bad-canary')).toEqual({ stable: 1 })
    const { body } = await rollout(h, id)
    expect(body.rollout.status).toBe('rolled_back')
    const judged = body.timeline.find((e) => e.type === 'RolloutStepJudged')!
    expect(judged.data).toMatchObject({
      step: 0,
      verdict: 'fail',
      next: 'rollback',
      signals: { candidate: { requests: 50, errors: 9 }, stable: { requests: 450, errors: 1 } },
    })
    expect(String((judged.data.reasons as string[])[0])).toMatch(/error rate 18 % above/)
    expect(body.timeline.map((e) => e.type)).toEqual([
      'RolloutStarted',
      'RolloutStepStarted',
      'RolloutStepJudged',
      'RolloutReverted',
    ])
    const annotations = await annotationsOf(h, 'bad-canary', 2)
    expect(annotations).toEqual([
      expect.objectContaining({
        kind: 'rollout_rejected',
        text: expect.stringMatching(
          /rolled back by rollout bad-canary\.1 at step 1 \(10 %\): error rate/,
        ),
      }),
    ])
    // The release history: the canary went in, then out; stable 1 throughout.
    const releases = (await h.store.load(releaseSubject(h.names, 'bad-canary'))).map(
      (e) => (e.data as { release: Release }).release,
    )
    expect(releases).toEqual([
      { stable: 1 },
      { stable: 1, canary: { version: 2, percent: 10 } },
      { stable: 1 },
    ])
    // Nothing more to do, however often the worker runs.
    expect((await h.service.workers.rollouts.runOnce()).advanced).toEqual({})
  })

  it('fails a step that never gets its requests at its deadline: rolled back, insufficient traffic', async () => {
    const started = await start({
      model: 'quiet-canary',
      candidate: '2',
      reason: 'nobody calls this model',
      criteria: { windowSeconds: WINDOW_SECONDS, minRequests: 50, stepDeadlineSeconds: 1800 },
    })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.rollout.rolloutId
    await tickUntil(h, 'the first step in the release', async () => {
      const r = await release(h, 'quiet-canary')
      return r?.canary?.percent === 10 ? r : undefined
    })
    // A trickle: the candidate never reaches its 50 requests.
    const stepStart = h.clock.now()
    await traffic(
      h,
      { model: 'quiet-canary', version: 2, variant: 'canary', start: stepStart },
      { requests: 3, errors: 0, latencyMs: 20 },
    )
    // Past the window, short of the deadline: the step waits, as before deadlines.
    h.clock.advance((WINDOW_SECONDS + 60) * SECOND)
    expect((await h.service.workers.rollouts.runOnce()).advanced).toEqual({})
    h.clock.advance(1200 * SECOND)
    const report = await h.service.workers.rollouts.runOnce()
    expect(report.advanced['quiet-canary']).toEqual(['judge', 'revert'])

    expect(await release(h, 'quiet-canary')).toEqual({ stable: 1 })
    const { body } = await rollout(h, id)
    expect(body.rollout.status).toBe('rolled_back')
    const judged = body.timeline.find((e) => e.type === 'RolloutStepJudged')!
    expect(judged.data).toMatchObject({
      step: 0,
      verdict: 'fail',
      next: 'rollback',
      signals: { candidate: { requests: 3 } },
    })
    expect((judged.data.reasons as string[])[0]).toMatch(
      /^insufficient traffic: 3 of 50 requests so far after 1860 s \(step deadline 1800 s\)$/,
    )
    expect(await annotationsOf(h, 'quiet-canary', 2)).toEqual([
      expect.objectContaining({
        kind: 'rollout_rejected',
        text: expect.stringMatching(/at step 1 \(10 %\): insufficient traffic: 3 of 50 requests/),
      }),
    ])

    // A deadline shorter than the window is refused, naming the field.
    const refused = await start({
      model: 'quiet-canary',
      candidate: '2',
      reason: 'again',
      criteria: { windowSeconds: 600, stepDeadlineSeconds: 300 },
    })
    expect(refused.status).toBe(400)
    expect(JSON.stringify(refused.body)).toContain('criteria/stepDeadlineSeconds')
  })

  it('takes a passing canary 10 → 50 → 100 % and promotes it; champion moves with it', async () => {
    const started = await start({
      model: 'good-canary',
      candidate: 'latest',
      reason: 'v2 beat v1 on the holdout',
      criteria: { windowSeconds: WINDOW_SECONDS, minRequests: 100 },
    })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.rollout.rolloutId
    expect(started.body.rollout.candidate).toBe(2)
    const shares: number[] = []
    for (const percent of [10, 50, 100]) {
      await tickUntil(h, `the ${percent} % step`, async () => {
        const r = await release(h, 'good-canary')
        return r?.canary?.percent === percent ? r : undefined
      })
      shares.push(percent)
      const at = h.clock.now()
      const total = 1000
      const canary = Math.round((total * percent) / 100)
      await traffic(
        h,
        { model: 'good-canary', version: 2, variant: 'canary', start: at },
        {
          requests: canary,
          errors: 0,
          latencyMs: 20,
        },
      )
      if (total - canary > 0) {
        await traffic(
          h,
          { model: 'good-canary', version: 1, variant: 'stable', start: at },
          {
            requests: total - canary,
            errors: 1,
            latencyMs: 20,
          },
        )
      }
      h.clock.advance((WINDOW_SECONDS + 1) * SECOND)
    }
    await tickUntil(h, 'the promotion', async () => {
      const r = await release(h, 'good-canary')
      return r?.stable === 2 ? r : undefined
    })
    expect(shares).toEqual([10, 50, 100])
    expect(await release(h, 'good-canary')).toEqual({ stable: 2 })
    // The read model follows: champion names the new stable version.
    await eventually(
      async () => {
        const champion = await h.call<{ version: number }>(
          'GET',
          '/v1/models/good-canary/versions/champion',
          h.tokens.alice,
        )
        return champion.body.version === 2 ? true : undefined
      },
      30_000,
      'champion on version 2',
    )
    const { body } = await rollout(h, id, h.tokens.alice)
    expect(body.rollout.status).toBe('promoted')
    expect(body.timeline.map((e) => e.type)).toEqual([
      'RolloutStarted',
      'RolloutStepStarted',
      'RolloutStepJudged',
      'RolloutStepStarted',
      'RolloutStepJudged',
      'RolloutStepStarted',
      'RolloutStepJudged',
      'RolloutPromoted',
    ])
    // At 100 % the stable version serves nothing: it is compared over the earlier steps.
    const last = body.timeline.filter((e) => e.type === 'RolloutStepJudged').at(-1)!
    expect(last.data).toMatchObject({ verdict: 'pass', next: 'promote', percent: 100 })
    expect((last.data.signals as { stableFrom?: string }).stableFrom).toBeDefined()

    // A user may not roll the promotion back; an admin does, one step: v1 serves again.
    expect((await operate(id, 'rollback', h.tokens.alice)).status).toBe(403)
    const back = await operate(id, 'rollback')
    expect(back.status, JSON.stringify(back.body)).toBe(200)
    await tickUntil(h, 'the rollback', async () => {
      const r = await release(h, 'good-canary')
      return r?.stable === 1 ? r : undefined
    })
    expect(await release(h, 'good-canary')).toEqual({ stable: 1 })
    expect((await rollout(h, id)).body.rollout.status).toBe('rolled_back')
    const annotations = await annotationsOf(h, 'good-canary', 2)
    expect(annotations.map((a) => a.kind)).toEqual(['rollout_rejected'])
  })

  it('lets admins pause, resume, approve and abort; users and analysts get 403; others 404', async () => {
    const started = await start({
      model: 'operated',
      candidate: '2',
      reason: 'try v2',
      requireApproval: true,
      criteria: { windowSeconds: WINDOW_SECONDS, minRequests: 10 },
    })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.rollout.rolloutId
    // One active rollout per model.
    const second = await start({ model: 'operated', candidate: '3', reason: 'try v3' })
    expect(second.status).toBe(409)
    expect(second.body.detail).toMatch(/already has a rollout in progress \(operated\.1\)/)
    // Bob does not see Alice's model or its rollouts; the analyst reads but may not start.
    expect((await rollout(h, id, h.tokens.bob)).status).toBe(404)
    expect((await rollout(h, id, h.tokens.analyst)).status).toBe(200)
    expect(
      (await start({ model: 'operated', candidate: '3', reason: 'x' }, h.tokens.bob)).status,
    ).toBe(404)
    expect(
      (await start({ model: 'operated', candidate: '3', reason: 'x' }, h.tokens.analyst)).status,
    ).toBe(403)

    for (const operation of ['pause', 'resume', 'approve', 'abort', 'rollback']) {
      expect((await operate(id, operation, h.tokens.alice)).status, operation).toBe(403)
      expect((await operate(id, operation, h.tokens.analyst)).status, operation).toBe(403)
    }
    await tickUntil(h, 'the first step', async () =>
      (await release(h, 'operated'))?.canary?.percent === 10 ? true : undefined,
    )
    expect((await operate(id, 'pause')).body.rollout.status).toBe('paused')
    // Paused: the window is not judged, however long it lasts.
    h.clock.advance(2 * WINDOW_SECONDS * SECOND)
    expect((await h.service.workers.rollouts.runOnce()).advanced).toEqual({})
    const resumed = await operate(id, 'resume')
    expect(resumed.body.rollout.status).toBe('running')
    const at = h.clock.now()
    await traffic(
      h,
      { model: 'operated', version: 2, variant: 'canary', start: at },
      {
        requests: 20,
        errors: 0,
        latencyMs: 10,
      },
    )
    await traffic(
      h,
      { model: 'operated', version: 1, variant: 'stable', start: at },
      {
        requests: 180,
        errors: 0,
        latencyMs: 10,
      },
    )
    h.clock.advance((WINDOW_SECONDS + 1) * SECOND)
    expect((await h.service.workers.rollouts.runOnce()).advanced.operated).toEqual(['judge'])
    expect((await rollout(h, id)).body.rollout.status).toBe('awaiting_approval')
    // Approval needed: nothing moves until an admin approves.
    expect((await h.service.workers.rollouts.runOnce()).advanced).toEqual({})
    expect((await operate(id, 'approve')).body.rollout.status).toBe('running')
    expect((await h.service.workers.rollouts.runOnce()).advanced.operated).toEqual(['apply_step'])
    expect(await release(h, 'operated')).toEqual({ stable: 1, canary: { version: 2, percent: 50 } })

    const aborted = await operate(id, 'abort')
    expect(aborted.status, JSON.stringify(aborted.body)).toBe(200)
    expect(aborted.body.rollout.status).toBe('reverting')
    expect((await h.service.workers.rollouts.runOnce()).advanced.operated).toEqual(['revert'])
    expect(await release(h, 'operated')).toEqual({ stable: 1 })
    const { body } = await rollout(h, id)
    expect(body.rollout.status).toBe('aborted')
    expect(body.timeline.map((e) => [e.type, e.actor])).toEqual([
      ['RolloutStarted', 'alice'],
      ['RolloutStepStarted', ROLLOUTS_PRINCIPAL.subject],
      ['RolloutPaused', 'root'],
      ['RolloutResumed', 'root'],
      ['RolloutStepJudged', ROLLOUTS_PRINCIPAL.subject],
      ['RolloutApproved', 'root'],
      ['RolloutStepStarted', ROLLOUTS_PRINCIPAL.subject],
      ['RolloutAborted', 'root'],
      ['RolloutReverted', ROLLOUTS_PRINCIPAL.subject],
    ])
    // Aborted is no verdict: the candidate is not annotated.
    const version = await h.call<{ annotations: unknown[] }>(
      'GET',
      '/v1/models/operated/versions/2',
      h.tokens.alice,
    )
    expect(version.body.annotations).toEqual([])
    expect((await operate(id, 'abort')).status).toBe(409)
    // Listings: Alice sees her rollouts, Bob none.
    await eventually(
      async () => {
        const list = await h.call<{ items: Array<{ rolloutId: string; status: string }> }>(
          'GET',
          '/v1/rollouts?model=operated',
          h.tokens.alice,
        )
        return list.body.items[0]?.status === 'aborted' ? list : undefined
      },
      30_000,
      'the listing',
    )
    const bobs = await h.call<{ items: unknown[] }>('GET', '/v1/rollouts', h.tokens.bob)
    expect(bobs.body.items).toEqual([])
  })

  it('answers a retried start with the same rollout and refuses bad input with the field', async () => {
    const key = randomUUID()
    const body = { model: 'operated', candidate: '3', reason: 'try v3' }
    const first = await start(body, h.tokens.alice, key)
    expect(first.status, JSON.stringify(first.body)).toBe(201)
    const again = await start(body, h.tokens.alice, key)
    expect(again.status).toBe(201)
    expect(again.body.rollout.rolloutId).toBe(first.body.rollout.rolloutId)
    const bad = await h.call<{ errors: Array<{ field: string }> }>(
      'POST',
      '/v1/rollouts',
      h.tokens.alice,
      { model: 'bad-canary', candidate: '2', reason: 'x', steps: [50, 10] },
      { 'idempotency-key': randomUUID() },
    )
    expect(bad.status).toBe(400)
    expect(bad.body.errors.map((e) => e.field)).toContain('steps/1')
    const quality = await h.call<{ errors: Array<{ field: string; message: string }> }>(
      'POST',
      '/v1/rollouts',
      h.tokens.alice,
      {
        model: 'bad-canary',
        candidate: '2',
        reason: 'x',
        criteria: { quality: { metric: 'accuracy', minLabels: 10, maxDegradation: 0.1 } },
      },
      { 'idempotency-key': randomUUID() },
    )
    expect(quality.status).toBe(400)
    expect(quality.body.errors).toEqual([
      {
        field: 'criteria/quality/metric',
        message:
          'accuracy is a classification metric; version 2 of bad-canary is a regression model',
      },
    ])
    expect((await start({ model: 'bad-canary', candidate: '9', reason: 'x' })).status).toBe(404)
    await operate(first.body.rollout.rolloutId, 'abort')
    await h.service.workers.rollouts.runOnce()
  })
})

describe('rollouts across a restart', () => {
  it('resumes mid-rollout without repeating a step, also when killed between a release change and its record', async () => {
    const h = await startHarness({ analytics: true })
    let second: Awaited<ReturnType<typeof startRegistryService>> | undefined
    try {
      await modelWithVersions(h, 'restarted', 'alice', 2)
      const started = await h.call<RolloutAnswer>(
        'POST',
        '/v1/rollouts',
        h.tokens.alice,
        {
          model: 'restarted',
          candidate: '2',
          reason: 'v2',
          steps: [25, 100],
          criteria: { windowSeconds: WINDOW_SECONDS, minRequests: 20 },
        },
        { 'idempotency-key': randomUUID() },
      )
      expect(started.status, JSON.stringify(started.body)).toBe(201)
      const id = started.body.rollout.rolloutId
      await tickUntil(h, 'the first step', async () =>
        (await release(h, 'restarted'))?.canary?.percent === 25 ? true : undefined,
      )
      const at = h.clock.now()
      await traffic(
        h,
        { model: 'restarted', version: 2, variant: 'canary', start: at },
        {
          requests: 50,
          errors: 0,
          latencyMs: 10,
        },
      )
      await traffic(
        h,
        { model: 'restarted', version: 1, variant: 'stable', start: at },
        {
          requests: 150,
          errors: 0,
          latencyMs: 10,
        },
      )
      // The first process judges the step and puts the next one into the release, then dies
      // before recording it: what its pass does, cut where a kill would cut it.
      h.clock.advance((WINDOW_SECONDS + 1) * SECOND)
      const subject = rolloutSubject(h.names, 'restarted')
      const loaded = await loadAggregate(h.store, rolloutDecider, subject)
      const active = loaded.state.rollouts[id]!
      const signals = await readStepSignals(
        { traffic: clickhouseTrafficSignals(h.analytics!), quality: null, close: async () => {} },
        active,
        { from: new Date(active.windowStartedAt!), to: h.clock.now(), minRequests: 20 },
      )
      const judged = await handleCommand(
        h.store,
        rolloutDecider,
        subject,
        {
          type: 'JudgeStep',
          data: { model: 'restarted', rolloutId: id, step: 0, signals, now: h.clock.now() },
        },
        { actor: ROLLOUTS_PRINCIPAL },
      )
      expect(judged.written).toBe(1)
      await changeRelease(h.service.deps, ROLLOUTS_PRINCIPAL, 'restarted', {
        stable: 1,
        canary: { version: 2, percent: 100 },
        reason: 'rollout restarted.1: step 2 of 2, 100 % to version 2',
      })
      await h.service.stop()
      const releasesBefore = (await h.store.load(releaseSubject(h.names, 'restarted'))).length

      second = await startRegistryService({
        config: h.config,
        logger: createLogger({ service: 'registry-test', level: 'warn' }),
        nc: h.nc,
        now: h.clock.now,
        listen: false,
      })
      // The new process records the step whose release is already in place, without changing
      // the release again, and judges nothing before the step's own window has been held.
      expect((await second.workers.rollouts.runOnce()).advanced.restarted).toEqual(['apply_step'])
      expect((await second.workers.rollouts.runOnce()).advanced).toEqual({})
      expect((await h.store.load(releaseSubject(h.names, 'restarted'))).length).toBe(releasesBefore)
      const events = await h.store.load(subject)
      expect(events.map((e) => e.type)).toEqual([
        'RolloutStarted',
        'RolloutStepStarted',
        'RolloutStepJudged',
        'RolloutStepStarted',
      ])
      expect(
        events
          .filter((e) => e.type === 'RolloutStepStarted')
          .map((e) => (e.data as { step: number }).step),
      ).toEqual([0, 1])
      const releases = (await h.store.load(releaseSubject(h.names, 'restarted'))).map(
        (e) => (e.data as { release: Release }).release,
      )
      expect(releases).toEqual([
        { stable: 1 },
        { stable: 1, canary: { version: 2, percent: 25 } },
        { stable: 1, canary: { version: 2, percent: 100 } },
      ])
      expect(id).toBe('restarted.1')
    } finally {
      await second?.stop()
      await h.analytics?.close()
    }
  })
})
