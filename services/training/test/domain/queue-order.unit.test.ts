import { describe, expect, it } from 'vitest'
import { effectiveLevel, queueOrder, type WaitingRun } from '../../src/domain/index.ts'

const minute = 60_000
const t = (m: number) => new Date(Date.UTC(2026, 2, 2, 10, 0) + m * minute)
const run = (
  runId: string,
  priority: WaitingRun['priority'],
  since: number,
  notBefore = since,
): WaitingRun => ({
  runId,
  priority,
  waitingSince: t(since),
  notBefore: t(notBefore),
})

describe('the queue order', () => {
  const aging = 30 * minute

  it('takes high before normal before low, first come first served within a priority', () => {
    const runs = [
      run('low1', 'low', 0),
      run('n2', 'normal', 2),
      run('h3', 'high', 3),
      run('n1', 'normal', 1),
      run('h4', 'high', 4),
    ]
    expect(queueOrder(runs, t(5), aging).map((r) => r.runId)).toEqual([
      'h3',
      'h4',
      'n1',
      'n2',
      'low1',
    ])
  })

  it('ages a waiting run one level per period, so an old low run passes newer normal ones', () => {
    const runs = [run('low', 'low', 0), run('n1', 'normal', 10), run('n2', 'normal', 35)]
    expect(queueOrder(runs, t(29), aging).map((r) => r.runId)).toEqual(['n1', 'low'])
    // At 30 minutes the low run counts as normal and has waited longest.
    expect(queueOrder(runs, t(36), aging).map((r) => r.runId)).toEqual(['low', 'n1', 'n2'])
    expect(effectiveLevel(runs[0]!, t(60), aging)).toBe(2)
    expect(effectiveLevel(runs[0]!, t(600), aging)).toBe(2)
  })

  it('leaves out retries still in their backoff', () => {
    const runs = [run('retry', 'low', 0, 20), run('n', 'normal', 5)]
    expect(queueOrder(runs, t(10), aging).map((r) => r.runId)).toEqual(['n'])
    expect(queueOrder(runs, t(20), aging).map((r) => r.runId)).toEqual(['n', 'retry'])
  })
})
