import { describe, expect, it } from 'vitest'
import type { RunDetailView } from '@argmax/training-service/client'
import {
  createRunBody,
  formatElapsed,
  parseParam,
  progressLine,
  renderMetrics,
} from '../../src/runs/index.ts'

const run = (over: Partial<RunDetailView>): RunDetailView =>
  ({
    status: 'PENDING',
    attempt: 0,
    maxAttempts: 3,
    queuedAt: '2026-01-01T00:00:00.000Z',
    progress: null,
    ...over,
  }) as RunDetailView

describe('runs rendering', () => {
  it('draws the progress line: status, attempt, iteration, first metric, elapsed since queued', () => {
    const at = new Date('2026-01-01T01:02:03.000Z')
    expect(progressLine(run({}), at)).toBe('PENDING · 1h02m03s')
    expect(
      progressLine(
        run({
          status: 'TRAINING',
          attempt: 2,
          progress: {
            attempt: 2,
            iteration: 120,
            totalIterations: 400,
            metrics: { 'validation-rmse': 0.812345, 'train-rmse': 0.5 },
            message: null,
            at: at.toISOString(),
          },
        }),
        new Date('2026-01-01T00:00:09.000Z'),
      ),
    ).toBe('TRAINING · attempt 2/3 · iteration 120/400 · validation-rmse 0.8123 · 9s')
    // The previous attempt's progress is not this attempt's.
    expect(
      progressLine(
        run({
          status: 'TRAINING',
          attempt: 3,
          progress: {
            attempt: 2,
            iteration: 5,
            totalIterations: 9,
            metrics: {},
            message: null,
            at: '',
          },
        }),
        new Date('2026-01-01T00:04:05.000Z'),
      ),
    ).toBe('TRAINING · attempt 3/3 · 4m05s')
  })

  it('formats elapsed time and metrics next to their baseline', () => {
    expect(formatElapsed(-5)).toBe('0s')
    expect(formatElapsed(3_600_000)).toBe('1h00m00s')
    expect(
      renderMetrics({ rmse: 0.8, baseline_rmse: 1.2, test_rows: 300, baseline_value: 6.3 }),
    ).toBe('METRIC  MODEL     BASELINE\nrmse    0.800000  1.20000')
  })

  it('reads parameters as JSON where they are JSON, else text', () => {
    expect(parseParam('a=3', parseParam('b=null', parseParam('c=hist')))).toEqual({
      a: 3,
      b: null,
      c: 'hist',
    })
    expect(parseParam('x=a=b')).toEqual({ x: 'a=b' })
    expect(() => parseParam('=3')).toThrow('--param takes NAME=VALUE')
  })

  it('sends only what was given: the service owns the defaults', () => {
    expect(
      createRunBody({
        model: 'm',
        datasetVersion: 'v',
        target: 't',
        trainer: 'xgboost',
        param: {},
        features: 'a, b',
        gpus: 1,
      }),
    ).toEqual({
      model: 'm',
      datasetVersionId: 'v',
      target: 't',
      trainer: 'xgboost',
      features: ['a', 'b'],
      resources: { gpus: 1 },
    })
  })
})
