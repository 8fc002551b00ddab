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
