import { randomUUID } from 'node:crypto'
import type { ModelSignature } from '@argmax/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clickhouseQualitySignals } from '../../src/application/rollout-signals.ts'
import { rolloutSubject } from '../../src/streams.ts'
import { startHarness, type Harness } from '../support/harness.ts'
import {
  annotationsOf,
  labels,
  modelWithVersions,
  release,
  rollout,
  SECOND,
  tickUntil,
  traffic,
  type RolloutAnswer,
} from '../support/rollouts.ts'

const WINDOW_SECONDS = 600

/** Label offsets from the prediction (3.5): each cycle's mean absolute error is 0.5 or 1.0. */
const MAE_HALF = [0.4, -0.6, 0.5]
const MAE_HALF_OTHER = [-0.5, 0.5, 0.5]
const MAE_ONE = [1.0, -1.2, 0.8]
const offset = (cycle: number[]) => (p: { prediction: number | null }, i: number) => ({
  number: p.prediction! + cycle[i % cycle.length]!,
})

/**
 * Canary rollouts judged on live quality: predictions in the prediction log, labels in
 * feedback's tables (the platform's one migration list), read through the quality queries
 * feedback's quality view uses.
 */
describe('rollouts on live quality', () => {
  let h: Harness
  const start = (body: object) =>
    h.call<RolloutAnswer>('POST', '/v1/rollouts', h.tokens.alice, body, {
      'idempotency-key': randomUUID(),
    })
  const quality = { metric: 'mae', minLabels: 50, maxDegradation: 0.1 }

  beforeAll(async () => {
    h = await startHarness({ analytics: true })
    await modelWithVersions(h, 'worse-live', 'alice', 2)
    await modelWithVersions(h, 'equal-live', 'alice', 2)
  })
  afterAll(() => h.stop())

  it('rolls back a candidate whose live labels are worse, with the quality evidence', async () => {
    const started = await start({
      model: 'worse-live',
      candidate: '2',
      reason: 'v2 passed the gate on the holdout',
      criteria: { windowSeconds: WINDOW_SECONDS, minRequests: 100, quality },
    })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.rollout.rolloutId
    await tickUntil(h, 'the 10 % step', async () => {
      const r = await release(h, 'worse-live')
      return r?.canary?.percent === 10 ? r : undefined
    })
    const at = h.clock.now()
    const base = { model: 'worse-live', start: at }
    const healthy = { errors: 0, latencyMs: 20 }
    const stable = await traffic(
      h,
      { ...base, version: 1, variant: 'stable' },
      { requests: 900, ...healthy },
    )
    const canary = await traffic(
      h,
      { ...base, version: 2, variant: 'canary' },
      { requests: 100, ...healthy },
    )
    // Pinned calls to the candidate are not the canary's evidence, however good their labels.
    const pinned = await traffic(
      h,
      { ...base, version: 2, variant: 'pinned' },
      { requests: 40, ...healthy },
    )
    await labels(h, pinned, (p) => ({ number: p.prediction! }))

    // Every request is in, but labels are not: the step waits for them.
    h.clock.advance((WINDOW_SECONDS + 1) * SECOND)
    expect((await h.service.workers.rollouts.runOnce()).advanced).toEqual({})

    await labels(h, stable.slice(0, 90), offset(MAE_HALF))
    // The candidate's first labels were perfect; corrections replaced them (the current label
    // counts, as in feedback's quality).
    await labels(h, canary.slice(0, 60), (p) => ({ number: p.prediction! }), 1)
    await labels(h, canary.slice(0, 60), offset(MAE_ONE), 2)
    const report = await h.service.workers.rollouts.runOnce()
    expect(report.advanced['worse-live']).toEqual(['judge', 'revert'])
    expect(await release(h, 'worse-live')).toEqual({ stable: 1 })

    const { body } = await rollout(h, id)
    expect(body.rollout.status).toBe('rolled_back')
    const judged = body.timeline.find((e) => e.type === 'RolloutStepJudged')!
    expect(judged.data).toMatchObject({
      step: 0,
      verdict: 'fail',
      next: 'rollback',
      reasons: ['mae 1 above 0.55 (stable 0.5, 10 % allowed)'],
    })
    const signals = judged.data.signals as {
      candidate: { quality: { labels: number; value: number } }
      stable: { quality: { labels: number; value: number } }
    }
    expect(signals.candidate.quality.labels).toBe(60)
    expect(signals.candidate.quality.value).toBeCloseTo(1.0, 12)
    expect(signals.stable.quality.labels).toBe(90)
    expect(signals.stable.quality.value).toBeCloseTo(0.5, 12)
    expect(judged.data.checks).toEqual([
      { name: 'requests', candidate: 100, stable: 900, limit: 100, ok: true },
      { name: 'labels', candidate: 60, stable: 90, limit: 50, ok: true },
      { name: 'error_rate', candidate: 0, stable: 0, limit: 0.01, ok: true },
      expect.objectContaining({ name: 'p99_latency_ms', ok: true }),
      { name: 'quality', candidate: 1, stable: 0.5, limit: 0.55, ok: false },
    ])
    const reverted = (await h.store.load(rolloutSubject(h.names, 'worse-live'))).find(
      (e) => e.type === 'RolloutReverted',
    )!
    expect(reverted.data).toMatchObject({
      rolloutId: id,
      model: 'worse-live',
      candidate: 2,
      outcome: 'rolled_back',
      release: { stable: 1 },
    })
    const annotations = await annotationsOf(h, 'worse-live', 2)
    expect(annotations).toEqual([
      expect.objectContaining({
        kind: 'rollout_rejected',
        text: 'rolled back by rollout worse-live.1 at step 1 (10 %): mae 1 above 0.55 (stable 0.5, 10 % allowed)',
      }),
    ])
  })

  it('promotes a candidate of equal live quality; at 100 % it is compared with what the stable did before', async () => {
    const started = await start({
      model: 'equal-live',
      candidate: '2',
      reason: 'v2 passed the gate on the holdout',
      steps: [50, 100],
      criteria: {
        windowSeconds: WINDOW_SECONDS,
        minRequests: 100,
        quality: { ...quality, maxDegradation: 0.05 },
      },
    })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.rollout.rolloutId
    expect(started.body.rollout).toMatchObject({
      criteria: {
        quality: {
          metric: 'mae',
          direction: 'lower_is_better',
          minLabels: 50,
          maxDegradation: 0.05,
        },
      },
    })
    const healthy = { errors: 0, latencyMs: 20 }
    for (const percent of [50, 100]) {
      await tickUntil(h, `the ${percent} % step`, async () => {
        const r = await release(h, 'equal-live')
        return r?.canary?.percent === percent ? r : undefined
      })
      const base = { model: 'equal-live', start: h.clock.now() }
      const canary = await traffic(
        h,
        { ...base, version: 2, variant: 'canary' },
        { requests: 200, ...healthy },
      )
      await labels(h, canary.slice(0, 60), offset(MAE_HALF_OTHER))
      if (percent < 100) {
        const stable = await traffic(
          h,
          { ...base, version: 1, variant: 'stable' },
          { requests: 200, ...healthy },
        )
        await labels(h, stable.slice(0, 60), offset(MAE_HALF))
      }
      h.clock.advance((WINDOW_SECONDS + 1) * SECOND)
    }
    await tickUntil(h, 'the promotion', async () => {
      const r = await release(h, 'equal-live')
      return r?.stable === 2 ? r : undefined
    })
    expect(await release(h, 'equal-live')).toEqual({ stable: 2 })
    const { body } = await rollout(h, id, h.tokens.alice)
    expect(body.rollout.status).toBe('promoted')
    const judgements = body.timeline.filter((e) => e.type === 'RolloutStepJudged')
    expect(judgements.map((e) => [e.data.percent, e.data.verdict, e.data.next])).toEqual([
      [50, 'pass', 'step'],
      [100, 'pass', 'promote'],
    ])
    for (const judged of judgements) {
      expect(judged.data.checks).toContainEqual({
        name: 'quality',
        candidate: 0.5,
        stable: 0.5,
        limit: 0.525,
        ok: true,
      })
    }
    // At 100 % the stable version served nothing: its labels are those of the earlier step.
    const last = judgements.at(-1)!.data
    expect(last.signals).toMatchObject({
      stableFrom: expect.any(String),
      candidate: { quality: { labels: 60 } },
      stable: { requests: 200, quality: { labels: 60 } },
    })
    const promoted = (await h.store.load(rolloutSubject(h.names, 'equal-live'))).find(
      (e) => e.type === 'RolloutPromoted',
    )!
    expect(promoted.data).toMatchObject({
      rolloutId: id,
      candidate: 2,
      previousStable: 1,
      release: { stable: 2 },
    })
  })

  it('refuses a quality metric of the other task, naming the field', async () => {
    const answer = await h.call<{ errors: Array<{ field: string; message: string }> }>(
      'POST',
      '/v1/rollouts',
      h.tokens.alice,
      {
        model: 'equal-live',
        candidate: '1',
        reason: 'x',
        criteria: { quality: { metric: 'log_loss', minLabels: 10, maxDegradation: 0.1 } },
      },
      { 'idempotency-key': randomUUID() },
    )
    expect(answer.status).toBe(400)
    expect(answer.body.errors).toEqual([
      {
        field: 'criteria/quality/metric',
        message:
          'log_loss is a classification metric; version 1 of equal-live is a regression model',
      },
    ])
  })

  it("reads a classifier's accuracy and log loss over [from, to) of routed traffic, as scikit-learn defines them", async () => {
    const classifier: ModelSignature = {
      task: 'classification',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1], nullable: false }],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1], nullable: false },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2], nullable: false },
      ],
      classes: ['a', 'b'],
    }
    const asked: number[] = []
    const signals = clickhouseQualitySignals(h.analytics!, async (model, version) => {
      expect(model).toBe('classes-live')
      asked.push(version)
      return classifier
    })
    const from = new Date(Math.floor(h.clock.now().getTime() / 1000) * 1000)
    const classify = (i: number) =>
      i % 2 === 0
        ? { label: 'a', probabilities: [0.8, 0.2] }
        : { label: 'b', probabilities: [0.3, 0.7] }
    const base = { model: 'classes-live', start: from }
    // Nine answers at from + 1 s … + 9 s; the window ends at + 9 s, so the last is outside.
    const v1 = await traffic(
      h,
      { ...base, version: 1, variant: 'stable' },
      { requests: 9, errors: 0, latencyMs: 5, classify },
    )
    // Version 2 always answers b with 0.6; every label is a.
    const v2 = await traffic(
      h,
      { ...base, version: 2, variant: 'canary' },
      {
        requests: 4,
        errors: 0,
        latencyMs: 5,
        classify: () => ({ label: 'b', probabilities: [0.4, 0.6] }),
      },
    )
    const v2pinned = await traffic(
      h,
      { ...base, version: 2, variant: 'pinned' },
      {
        requests: 4,
        errors: 0,
        latencyMs: 5,
        classify: () => ({ label: 'a', probabilities: [1, 0] }),
      },
    )
    // v1's truth is what it predicted, except the fourth answer (b, truly a).
    await labels(h, v1, (p, i) => ({ class: i === 3 ? 'a' : p.predicted_class! }))
    await labels(h, [...v2, ...v2pinned], () => ({ class: 'a' }))

    const to = new Date(from.getTime() + 9 * SECOND)
    const read = (metric: string) =>
      signals.read({ model: 'classes-live', versions: [1, 2], from, to, metric })
    const accuracy = await read('accuracy')
    expect(accuracy[1]).toEqual({ labels: 8, value: 7 / 8 })
    expect(accuracy[2]).toEqual({ labels: 4, value: 0 })
    const logLoss = await read('log_loss')
    const expected = -(4 * Math.log(0.8) + 3 * Math.log(0.7) + Math.log(0.3)) / 8
    expect(logLoss[1]!.labels).toBe(8)
    expect(logLoss[1]!.value).toBeCloseTo(expected, 6)
    expect(logLoss[2]!.value).toBeCloseTo(-Math.log(0.4), 6)
    expect(new Set(asked)).toEqual(new Set([1, 2]))
    // A version with no labelled prediction in the window: no labels, no value.
    expect(
      (
        await signals.read({ model: 'classes-live', versions: [3], from, to, metric: 'accuracy' })
      )[3],
    ).toEqual({ labels: 0, value: null })
  })
})
