import { describe, expect, it } from 'vitest'
import type { DriftView, QualityView } from '@argmax/feedback-service/client'
import { renderChart, renderDrift, renderQuality } from '../../src/quality/render.ts'

const window = {
  name: '1h' as const,
  from: '2026-12-01T11:00:00.000Z',
  to: '2026-12-01T12:00:00.000Z',
}

function view(series: QualityView['series']): QualityView {
  return {
    model: 'movies',
    task: 'regression',
    window,
    bucketSeconds: 600,
    versions: [
      {
        version: 1,
        stable: true,
        predictions: 10,
        labelled: 5,
        coverage: 0.5,
        labelDelaySeconds: { mean: 30, p50: 20, p90: 60 },
        metrics: { mae: 0.5, rmse: 0.6, r2: 0.7 },
        testMetrics: { mae: 0.65 },
      },
    ],
    series,
  }
}

const at = (minute: number) => new Date(Date.parse(window.from) + minute * 60_000).toISOString()
// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '')

describe('quality rendering', () => {
  it('shows a version row with coverage, delay, metrics and the test metric beside them', () => {
    const text = renderQuality(view([]))
    expect(text.split('\n')[0]).toBe(
      'movies — regression, window 1h (2026-12-01T11:00:00.000Z → 2026-12-01T12:00:00.000Z)',
    )
    expect(text).toMatch(
      /1 \(stable\)\s+10\s+5\s+50\.0%\s+20s\s+0\.500000\s+0\.600000\s+0\.700000\s+0\.650000/,
    )
  })

  it('charts a series that starts late and has an empty bucket, holding the previous value', () => {
    const chart = plain(
      renderChart(
        view([
          { version: 1, time: at(20), labelled: 2, metrics: { mae: 0.4 } },
          { version: 1, time: at(40), labelled: 2, metrics: { mae: 0.8 } },
          { version: 2, time: at(30), labelled: 2, metrics: { mae: 0.6 } },
        ]),
        'mae',
        4,
      ),
    )
    const [caption, ...rows] = chart.split('\n')
    expect(caption).toBe(
      'mae per 600s bucket (green = version 1, blue = version 2; 3 empty bucket(s) hold the previous value)',
    )
    expect(rows).toHaveLength(5)
    expect(rows[0]).toContain('0.800')
    expect(rows.at(-1)).toContain('0.400')
  })

  it('charts a flat line and says when there is nothing to chart', () => {
    const flat = plain(
      renderChart(view([{ version: 1, time: at(0), labelled: 1, metrics: { mae: 0.25 } }]), 'mae'),
    )
    expect(flat).toContain('0.250')
    expect(renderChart(view([]), 'mae')).toBe('no labelled predictions in the window to chart mae')
    expect(
      renderChart(view([{ version: 1, time: at(0), labelled: 1, metrics: { mae: null } }]), 'mae'),
    ).toBe('no mae values in the window')
  })

  it('charts a line that differs only by floating-point noise (it used to hang)', () => {
    const chart = plain(
      renderChart(
        view([
          { version: 1, time: at(0), labelled: 300, metrics: { mae: 0.3755776451428729 } },
          { version: 1, time: at(3), labelled: 300, metrics: { mae: 0.375577645142873 } },
        ]),
        'mae',
      ),
    )
    expect(chart).toContain('0.376')
    expect(chart.split('\n').length).toBeLessThan(20)
  })

  it('lists drifting inputs largest first with their verdict', () => {
    const drift: DriftView = {
      model: 'movies',
      window,
      versions: [
        {
          version: 1,
          predictions: 100,
          baseline: { datasetId: 'd', datasetVersionId: 'v', rows: 1000 },
          features: [
            { feature: 'runtime', kind: 'numeric', psi: 0.05, bins: [] },
            { feature: 'budget', kind: 'numeric', psi: 0.31, bins: [] },
            { feature: 'genre', kind: 'categorical', psi: 0.15, bins: [] },
          ],
          prediction: { feature: 'prediction', kind: 'numeric', psi: 0.12345, bins: [] },
          maxPsi: 0.31,
        },
      ],
    }
    const lines = renderDrift(drift).split('\n')
    expect(lines[0]).toBe('version 1: 100 predictions, prediction PSI 0.1235')
    expect(lines[2]).toMatch(/^budget\s+numeric\s+0\.310000\s+significant$/)
    expect(lines[3]).toMatch(/^genre\s+categorical\s+0\.150000\s+moderate$/)
    expect(lines[4]).toMatch(/^runtime\s+numeric\s+0\.0500000\s+stable$/)
  })
})
