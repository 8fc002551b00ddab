import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { QualityView } from '../../src/api/contract.ts'
import {
  classificationSignature,
  regressionSignature,
  startHarness,
  type Harness,
} from '../support/harness.ts'
import { sklearnMetrics, type SklearnInput } from '../support/sklearn.ts'
import { eventually } from '@argmax/testkit'

const MINUTE = 60_000

/** A seeded generator, so a failure can be reproduced. */
function random(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

describe('live quality: GET /v1/quality/{model}', () => {
  let h: Harness
  const rand = random(42)
  /** What scikit-learn gets: the last label sent for every labelled prediction, per version. */
  const expected: Record<string, SklearnInput> = {}
  let labelled = 0

  async function send(labels: Array<{ predictionId: string; value: number | string }>) {
    for (let i = 0; i < labels.length; i += 5_000) {
      const sent = await h.call('POST', '/v1/feedback', h.tokens.alice, {
        labels: labels.slice(i, i + 5_000),
      })
      expect(sent.status).toBe(202)
    }
  }

  beforeAll(async () => {
    h = await startHarness({ start: new Date('2026-12-01T12:00:00Z') })
    for (const version of [1, 2]) {
      await h.registerModel({
        model: 'reg',
        version,
        ownerId: 'alice',
        task: 'regression',
        signature: regressionSignature([{ name: 'x', type: 'FP32' }]),
        metrics: { mae: 0.5, rmse: 0.7, r2: 0.8 },
        createModel: version === 1,
      })
    }
    const classes = ['cat', 'dog', 'owl', 'rat']
    await h.registerModel({
      model: 'cls',
      version: 1,
      ownerId: 'alice',
      task: 'classification',
      signature: classificationSignature([{ name: 'x', type: 'FP32' }], classes),
      metrics: { accuracy: 0.9 },
    })
    await h.release('reg', { stable: 1, canary: { version: 2, percent: 20 } })
    await h.release('cls', { stable: 1 })
    await h.settle()
    const now = h.clock.now().getTime()

    // Regression: two versions, 70 % labelled, a fifth of them corrected twice.
    const labels: Array<{ predictionId: string; value: number }> = []
    const corrections: Array<{ predictionId: string; value: number }>[] = [[], []]
    for (const version of [1, 2]) {
      const rows = Array.from({ length: 1_500 }, () => {
        const truth = 5 + 3 * rand()
        return {
          truth,
          prediction: truth + (rand() - 0.5) * (version === 1 ? 1 : 2.5),
          at: new Date(now - rand() * 50 * MINUTE),
        }
      })
      const ids = await h.logPredictions(
        'reg',
        version,
        rows.map((r) => ({ inputs: { x: r.truth }, prediction: r.prediction, at: r.at })),
      )
      const y: number[] = []
      const p: number[] = []
      rows.forEach((row, i) => {
        if (rand() > 0.7) return
        const corrected = rand() < 0.2
        if (corrected) {
          labels.push({ predictionId: ids[i]!, value: row.truth + 10 })
          corrections[0]!.push({ predictionId: ids[i]!, value: row.truth - 10 })
          corrections[1]!.push({ predictionId: ids[i]!, value: row.truth })
        } else {
          labels.push({ predictionId: ids[i]!, value: row.truth })
        }
        y.push(row.truth)
        p.push(row.prediction)
      })
      expected[`reg-${version}`] = { task: 'regression', y, p }
      labelled += y.length
    }
    // A prediction logged without an answer, a shadow one and a failed one: not counted.
    await h.logPredictions('reg', 1, [{ inputs: { x: 1 }, prediction: null }])
    await h.logPredictions('reg', 1, [{ inputs: { x: 1 }, prediction: 3, variant: 'shadow' }])
    await h.logPredictions('reg', 1, [{ inputs: { x: 1 }, prediction: null, status: 'error' }])

    // Classification: four classes, 'rat' never predicted (zero division), FP32-like probabilities.
    const rows = Array.from({ length: 2_000 }, () => {
      const weights = [rand(), rand(), rand(), rand() * 0.05]
      const total = weights.reduce((a, b) => a + b, 0)
      const probs = weights.map((w) => Math.fround(w / total))
      const predicted = classes[probs.indexOf(Math.max(...probs))]!
      const truth = rand() < 0.6 ? predicted : classes[Math.floor(rand() * 4)]!
      return { probs, predicted, truth, at: new Date(now - rand() * 50 * MINUTE) }
    })
    const ids = await h.logPredictions(
      'cls',
      1,
      rows.map((r) => ({
        inputs: { x: 1 },
        predictedClass: r.predicted,
        probabilities: r.probs,
        at: r.at,
      })),
    )
    const classLabels = rows.map((r, i) => ({ predictionId: ids[i]!, value: r.truth }))
    expected['cls-1'] = {
      task: 'classification',
      y: rows.map((r) => r.truth),
      p: rows.map((r) => r.predicted),
      probs: rows.map((r) => r.probs),
      classes,
    }
    await send(labels)
    h.clock.advance(1_000)
    await send(corrections[0]!)
    h.clock.advance(1_000)
    await send(corrections[1]!)
    await h.call('POST', '/v1/feedback', h.tokens.alice, { labels: classLabels })
    labelled += classLabels.length
    await eventually(
      async () => {
        const [row] = await h.service.analytics.query<{ n: string }>(
          'SELECT count() AS n FROM feedback',
        )
        return Number(row!.n) === labelled ? true : undefined
      },
      60_000,
      'every label in ClickHouse',
    )
    // The corrections reach the current labels last.
    await eventually(async () => {
      const [row] = await h.service.analytics.query<{ n: string }>(
        'SELECT count() AS n FROM feedback_history',
      )
      return Number(row!.n) === labelled + corrections[0]!.length * 2 ? true : undefined
    }, 60_000)
  }, 180_000)
  afterAll(() => h?.stop())

  it('equals scikit-learn on the same rows within 1e-9 — MAE, RMSE, R² per version, corrections counted once with their last value', async () => {
    const answer = await h.call<QualityView>('GET', '/v1/quality/reg?window=1h', h.tokens.alice)
    expect(answer.status).toBe(200)
    const reference = sklearnMetrics(expected)
    for (const version of [1, 2]) {
      const quality = answer.body.versions.find((v) => v.version === version)!
      const want = reference[`reg-${version}`]!
      const rows = expected[`reg-${version}`] as { y: number[] }
      expect(quality.labelled).toBe(rows.y.length)
      for (const metric of ['mae', 'rmse', 'r2'] as const) {
        expect(Math.abs(quality.metrics[metric]! - want[metric]!)).toBeLessThan(1e-9)
      }
    }
    const stable = answer.body.versions.find((v) => v.version === 1)!
    expect(stable.stable).toBe(true)
    // 1,500 answered + one without an answer; shadow and failed ones are not predictions served.
    expect(stable.predictions).toBe(1_501)
    expect(stable.coverage).toBeCloseTo(stable.labelled / 1_501, 12)
    expect(stable.testMetrics).toEqual({ mae: 0.5, rmse: 0.7, r2: 0.8 })
    expect(stable.labelDelaySeconds!.p90).toBeGreaterThan(stable.labelDelaySeconds!.p50)
    // The series covers the window, per version, and adds up to the same labelled count.
    const points = answer.body.series.filter((p) => p.version === 1)
    expect(points.length).toBeGreaterThan(10)
    expect(points.reduce((sum, p) => sum + p.labelled, 0)).toBe(stable.labelled)
  })

  it('equals scikit-learn within 1e-9 — accuracy, macro precision/recall/F1 and log loss', async () => {
    const answer = await h.call<QualityView>('GET', '/v1/quality/cls?window=1h', h.tokens.alice)
    expect(answer.status).toBe(200)
    const want = sklearnMetrics({ c: expected['cls-1']! }).c!
    const [quality] = answer.body.versions
    expect(quality!.labelled).toBe(2_000)
    for (const metric of ['accuracy', 'precision', 'recall', 'f1', 'logLoss'] as const) {
      expect(Math.abs(quality!.metrics[metric]! - want[metric]!)).toBeLessThan(1e-9)
    }
  })

  it('filters by version and window, and sees nothing before the window', async () => {
    const v2 = await h.call<QualityView>(
      'GET',
      '/v1/quality/reg?window=1h&version=2',
      h.tokens.admin,
    )
    expect(v2.body.versions.map((v) => v.version)).toEqual([2])
    const recent = await h.call<QualityView>('GET', '/v1/quality/reg?window=5m', h.tokens.alice)
    const all = await h.call<QualityView>('GET', '/v1/quality/reg?window=1d', h.tokens.alice)
    expect(recent.body.versions[0]!.labelled).toBeLessThan(all.body.versions[0]!.labelled)
    const release = await h.call<QualityView>(
      'GET',
      '/v1/quality/reg?window=release',
      h.tokens.alice,
    )
    expect(release.body.window.from).toBe('2026-12-01T12:00:00.000Z')
  })

  it('shows users their own models only; analysts and admins all', async () => {
    expect((await h.call('GET', '/v1/quality/reg', h.tokens.bob)).status).toBe(404)
    expect((await h.call('GET', '/v1/quality/reg', h.tokens.analyst)).status).toBe(200)
    expect((await h.call('GET', '/v1/quality/nope', h.tokens.admin)).status).toBe(404)
  })
})
