import asciichart from 'asciichart'
import type { DriftView, QualityView } from '@argmax/feedback-service/client'
import { table } from '../datasets/render.ts'

/** The metrics a task is judged by, in the order the table shows them. */
export function metricsOf(
  task: QualityView['task'],
): Array<keyof QualityView['versions'][number]['metrics']> {
  return task === 'classification'
    ? ['accuracy', 'precision', 'recall', 'f1', 'logLoss']
    : ['mae', 'rmse', 'r2']
}

/** One row per version: traffic, labels, coverage, delay, the task's metrics and the test's. */
export function renderQuality(view: QualityView): string {
  const metrics = metricsOf(view.task)
  const rows = view.versions.map((v) => ({
    version: `${v.version}${v.stable ? ' (stable)' : ''}`,
    predictions: v.predictions,
    labelled: v.labelled,
    coverage: v.coverage === null ? null : `${(v.coverage * 100).toFixed(1)}%`,
    'delay p50': v.labelDelaySeconds ? `${v.labelDelaySeconds.p50.toFixed(0)}s` : null,
    ...Object.fromEntries(metrics.map((m) => [m, v.metrics[m] ?? null])),
    ...Object.fromEntries(
      metrics.map((m) => [`test ${m}`, v.testMetrics[m === 'logLoss' ? 'log_loss' : m] ?? null]),
    ),
  }))
  const columns = [
    'version',
    'predictions',
    'labelled',
    'coverage',
    'delay p50',
    ...metrics,
    ...metrics
      .map((m) => `test ${m}`)
      .filter((c) => rows.some((r) => r[c as keyof typeof r] !== null)),
  ]
  return [
    `${view.model} — ${view.task ?? 'unknown task'}, window ${view.window.name} (${view.window.from} → ${view.window.to})`,
    table(rows, columns),
  ].join('\n')
}

/**
 * A terminal chart of `metric` over the window, one line per version (asciichart). asciichart
 * draws no gaps (a NaN breaks its scale), so the chart spans the buckets that have values and an
 * empty bucket holds its version's previous value (its first, before it has one); the caption
 * says how many buckets were empty.
 */
export function renderChart(view: QualityView, metric: string, height = 10): string {
  const versions = [...new Set(view.series.map((p) => p.version))].sort((a, b) => a - b)
  if (versions.length === 0) return `no labelled predictions in the window to chart ${metric}`
  const buckets = Math.max(
    1,
    Math.round(
      (Date.parse(view.window.to) - Date.parse(view.window.from)) / 1000 / view.bucketSeconds,
    ),
  )
  const from = Date.parse(view.window.from)
  const lines = versions.map((version) => {
    const values: Array<number | undefined> = Array.from({ length: buckets }, () => undefined)
    for (const point of view.series.filter((p) => p.version === version)) {
      const value = (point.metrics as Record<string, number | null | undefined>)[metric]
      const index = Math.floor((Date.parse(point.time) - from) / 1000 / view.bucketSeconds)
      if (typeof value === 'number' && Number.isFinite(value) && index >= 0 && index < buckets) {
        values[index] = value
      }
    }
    return values
  })
  const filled = (i: number) => lines.some((values) => values[i] !== undefined)
  const first = Array.from({ length: buckets }, (_, i) => i).find(filled)
  if (first === undefined) return `no ${metric} values in the window`
  let last = buckets - 1
  while (!filled(last)) last--
  let empty = 0
  const series = lines
    .filter((values) => values.some((v) => v !== undefined))
    .map((values) => {
      const span = values.slice(first, last + 1)
      let held = span.find((v) => v !== undefined)!
      return span.map((v) => {
        if (v === undefined) empty++
        else held = v
        return held
      })
    })
  const all = series.flat()
  let min = Math.min(...all)
  let max = Math.max(...all)
  // asciichart scales by height / (max - min): a flat line, or one that differs only by
  // floating-point noise (the same MAE summed in another order), would make that scale endless
  // and its row loop never finish. So the scale spans at least 0.002.
  const minRange = 0.002
  if (max - min < minRange) {
    const mid = (min + max) / 2
    ;[min, max] = [mid - minRange / 2, mid + minRange / 2]
  }
  const colors = [
    asciichart.green,
    asciichart.blue,
    asciichart.magenta,
    asciichart.yellow,
    asciichart.cyan,
  ]
  const shown = versions.filter((_, i) => lines[i]!.some((v) => v !== undefined))
  const chart = asciichart.plot(series, {
    height,
    min,
    max,
    colors: shown.map((_, i) => colors[i % colors.length]!),
    format: (x: number) => x.toFixed(3).padStart(8),
  })
  const legend = shown.map((v, i) => `${colorName(i)} = version ${v}`).join(', ')
  const gaps = empty > 0 ? `; ${empty} empty bucket(s) hold the previous value` : ''
  return `${metric} per ${view.bucketSeconds}s bucket (${legend}${gaps})\n${chart}`
}

function colorName(i: number): string {
  return ['green', 'blue', 'magenta', 'yellow', 'cyan'][i % 5]!
}

/** Drift per version: PSI of each input and of the prediction, largest first. */
export function renderDrift(view: DriftView, top = 10): string {
  return view.versions
    .map((v) => {
      const features = [...v.features]
        .filter((f) => f.psi !== null)
        .sort((a, b) => b.psi! - a.psi!)
        .slice(0, top)
      const rows = features.map((f) => ({
        feature: f.feature,
        kind: f.kind,
        psi: f.psi,
        drift: f.psi! > 0.2 ? 'significant' : f.psi! > 0.1 ? 'moderate' : 'stable',
      }))
      const head = `version ${v.version}: ${v.predictions} predictions${
        v.prediction?.psi !== null && v.prediction
          ? `, prediction PSI ${v.prediction.psi!.toFixed(4)}`
          : ''
      }${v.note ? ` (${v.note})` : ''}`
      return rows.length > 0 ? `${head}\n${table(rows, ['feature', 'kind', 'psi', 'drift'])}` : head
    })
    .join('\n\n')
}
