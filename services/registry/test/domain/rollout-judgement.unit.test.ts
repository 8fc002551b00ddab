import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ROLLOUT_CRITERIA,
  judgeStep,
  type RolloutCriteria,
  type VersionSignals,
} from '../../src/domain/index.ts'

const criteria: RolloutCriteria = { ...DEFAULT_ROLLOUT_CRITERIA, minRequests: 100 }
const v = (requests: number, errors: number, p99: number | null): VersionSignals => ({
  requests,
  errors,
  p99LatencyMs: p99,
})
const judge = (candidate: VersionSignals, stable: VersionSignals, c = criteria) =>
  judgeStep(
    { from: '2026-12-01T12:00:00.000Z', to: '2026-12-01T12:10:00.000Z', candidate, stable },
    c,
  )

describe('judgeStep', () => {
  // candidate requests, errors, p99 | stable requests, errors, p99 | verdict | failing check
  const table: Array<
    [string, VersionSignals, VersionSignals, 'pass' | 'fail' | 'wait', string | null]
  > = [
    ['healthy and as fast', v(120, 0, 20), v(1000, 2, 20), 'pass', null],
    ['too few requests yet', v(60, 1, 20), v(1000, 2, 20), 'wait', null],
    ['too few requests but already hopeless', v(20, 6, 20), v(1000, 2, 20), 'fail', 'error_rate'],
    ['error rate over the ceiling', v(200, 12, 20), v(1000, 0, 20), 'fail', 'error_rate'],
    ['error rate 1.5 points over stable', v(200, 5, 20), v(1000, 10, 20), 'fail', 'error_rate'],
    ['error rate 0.5 points over stable', v(200, 3, 20), v(1000, 10, 20), 'pass', null],
    ['p99 just inside 1.5× + 10 ms', v(200, 0, 70), v(1000, 0, 40), 'pass', null],
    ['p99 beyond 1.5× + 10 ms', v(200, 0, 71), v(1000, 0, 40), 'fail', 'p99_latency_ms'],
    // A stable version with too little traffic is no yardstick: only the ceilings apply.
    ['slow, stable too quiet to compare', v(200, 0, 500), v(50, 0, 10), 'pass', null],
    ['errors, stable too quiet to compare', v(200, 11, 10), v(50, 0, 10), 'fail', 'error_rate'],
    ['no successful request at all', v(100, 100, null), v(1000, 0, 10), 'fail', 'error_rate'],
  ]
  it.each(table)('%s', (_name, candidate, stable, verdict, failing) => {
    const judgement = judge(candidate, stable)
    expect(judgement.verdict).toBe(verdict)
    const failed = judgement.checks.filter((c) => !c.ok && c.name !== 'requests').map((c) => c.name)
    expect(failed).toEqual(failing ? [failing] : [])
    if (verdict !== 'pass') expect(judgement.reasons.length).toBeGreaterThan(0)
    else expect(judgement.reasons).toEqual([])
  })

  it('states the evidence of a failing latency check in numbers', () => {
    const judgement = judge(v(200, 0, 90), v(1000, 0, 40))
    expect(judgement.checks).toContainEqual({
      name: 'p99_latency_ms',
      candidate: 90,
      stable: 40,
      limit: 70,
      ok: false,
    })
    expect(judgement.reasons).toEqual([
      'p99 latency 90 ms above 70 ms (stable 40 ms × 1.5 + 10 ms)',
    ])
  })

  describe('quality, where labels exist', () => {
    const withQuality: RolloutCriteria = {
      ...criteria,
      quality: { metric: 'mae', direction: 'lower_is_better', minLabels: 50, maxDegradation: 0.05 },
    }
    const q = (s: VersionSignals, labels: number, value: number | null): VersionSignals => ({
      ...s,
      quality: { labels, value },
    })
    const table: Array<[string, number, number | null, number, number | null, string]> = [
      // candidate labels, mae | stable labels, mae | verdict
      ['waits for labels', 20, 0.6, 500, 0.66, 'wait'],
      ['better mae passes', 80, 0.6, 500, 0.66, 'pass'],
      ['within 5 % passes', 80, 0.69, 500, 0.66, 'pass'],
      ['over 5 % worse fails', 80, 0.7, 500, 0.66, 'fail'],
      ['stable without labels: no comparison', 80, 0.9, 10, 0.66, 'pass'],
    ]
    it.each(table)('%s', (_name, labels, mae, stableLabels, stableMae, verdict) => {
      const judgement = judge(
        q(v(200, 0, 20), labels, mae),
        q(v(1000, 0, 20), stableLabels, stableMae),
        withQuality,
      )
      expect(judgement.verdict).toBe(verdict)
    })

    // The same comparison for each metric: a relative margin on the stable's value, in the
    // metric's direction; the bound itself passes.
    const metrics: Array<
      [string, 'mae' | 'rmse' | 'accuracy' | 'log_loss', number, number, number, string, number]
    > = [
      // metric, margin | candidate, stable | verdict, limit
      ['rmse 10 % allowed, 9.9 % worse', 'rmse', 0.1, 1.0549, 0.96, 'pass', 1.056],
      ['rmse 10 % allowed, exactly at the limit', 'rmse', 0.1, 1.056, 0.96, 'pass', 1.056],
      ['rmse 10 % allowed, 11 % worse', 'rmse', 0.1, 1.0656, 0.96, 'fail', 1.056],
      ['log loss 0 % allowed, equal', 'log_loss', 0, 0.4, 0.4, 'pass', 0.4],
      ['log loss 0 % allowed, a little worse', 'log_loss', 0, 0.41, 0.4, 'fail', 0.4],
      ['accuracy 2 % allowed, 0.882 of 0.9', 'accuracy', 0.02, 0.882, 0.9, 'pass', 0.882],
      ['accuracy 2 % allowed, 0.88 of 0.9', 'accuracy', 0.02, 0.88, 0.9, 'fail', 0.882],
      // A perfect stable leaves no relative room: only as perfect passes.
      ['mae against a perfect stable', 'mae', 0.5, 0.01, 0, 'fail', 0],
    ]
    it.each(metrics)('%s', (_name, metric, margin, mine, theirs, verdict, limit) => {
      const c: RolloutCriteria = {
        ...criteria,
        quality: {
          metric,
          direction: metric === 'accuracy' ? 'higher_is_better' : 'lower_is_better',
          minLabels: 50,
          maxDegradation: margin,
        },
      }
      const judgement = judge(q(v(200, 0, 20), 60, mine), q(v(1000, 0, 20), 60, theirs), c)
      expect(judgement.verdict).toBe(verdict)
      expect(judgement.checks.find((check) => check.name === 'quality')).toEqual({
        name: 'quality',
        candidate: mine,
        stable: theirs,
        limit,
        ok: verdict === 'pass',
      })
    })

    it('names the metric, both values and the margin when quality fails', () => {
      const judgement = judge(q(v(200, 0, 20), 80, 0.9), q(v(1000, 0, 20), 500, 0.66), withQuality)
      expect(judgement.reasons).toEqual(['mae 0.9 above 0.693 (stable 0.66, 5 % allowed)'])
      expect(judgement.checks.find((c) => c.name === 'labels')).toEqual({
        name: 'labels',
        candidate: 80,
        stable: 500,
        limit: 50,
        ok: true,
      })
    })

    it('waits for labels even with every request in, and records what the stable had', () => {
      const judgement = judge(q(v(200, 0, 20), 49, 0.1), q(v(1000, 0, 20), 500, 0.66), withQuality)
      expect(judgement.verdict).toBe('wait')
      expect(judgement.reasons).toEqual(['49 of 50 labels so far'])
    })

    it('records the quality seen when the stable has too few labels to compare with', () => {
      const judgement = judge(q(v(200, 0, 20), 80, 0.9), q(v(1000, 0, 20), 10, 0.66), withQuality)
      expect(judgement.verdict).toBe('pass')
      expect(judgement.checks.find((c) => c.name === 'quality')).toEqual({
        name: 'quality',
        candidate: 0.9,
        stable: 0.66,
        limit: null,
        ok: true,
      })
    })

    it('judges errors before labels: a hopeless error rate fails without waiting for them', () => {
      const judgement = judge(q(v(20, 10, 20), 0, null), q(v(1000, 0, 20), 500, 0.66), withQuality)
      expect(judgement.verdict).toBe('fail')
    })

    it('higher-is-better metrics fail when lower', () => {
      const accuracy: RolloutCriteria = {
        ...criteria,
        quality: {
          metric: 'accuracy',
          direction: 'higher_is_better',
          minLabels: 10,
          maxDegradation: 0.02,
        },
      }
      expect(judge(q(v(200, 0, 20), 50, 0.8), q(v(1000, 0, 20), 500, 0.9), accuracy).verdict).toBe(
        'fail',
      )
      expect(judge(q(v(200, 0, 20), 50, 0.89), q(v(1000, 0, 20), 500, 0.9), accuracy).verdict).toBe(
        'pass',
      )
    })
  })
})
