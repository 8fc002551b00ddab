import { classificationMetrics, regressionMetrics } from '@argmax/analytics/quality-metrics'

/**
 * The metrics a retrain pipeline compares a candidate and the serving version with, computed on
 * the same holdout rows, chunk by chunk (bounded memory whatever the holdout's size). The last
 * step — sums and counts to metrics — is `@argmax/analytics`' quality-metrics, the one copy
 * live quality and canary judgements use, with scikit-learn's formulas: regression `mae`,
 * `rmse`, `r2`; classification `accuracy`, macro `precision`, `recall`, `f1`, and `log_loss`
 * (probabilities clipped to float64's epsilon and renormalised, over rows whose true class the
 * model knows).
 */
export const HOLDOUT_METRICS = {
  regression: ['mae', 'rmse', 'r2'],
  classification: ['accuracy', 'precision', 'recall', 'f1', 'log_loss'],
} as const

export interface HoldoutScore {
  /** Adds one chunk: true values and the model's outputs for the same rows. */
  add(chunk: HoldoutChunk): void
  readonly rows: number
  /** Metric name → value; a metric that cannot be computed (one row's r2) is left out. */
  metrics(): Record<string, number>
}

export type HoldoutChunk =
  | { task: 'regression'; targets: readonly number[]; predictions: ArrayLike<number> }
  | {
      task: 'classification'
      targets: readonly string[]
      labels: readonly string[]
      /** Row-major [rows, classes.length], in the signature's `classes` order. */
      probabilities: ArrayLike<number>
    }

const EPS = 2.220446049250313e-16

export function regressionScore(): HoldoutScore {
  let n = 0
  let absSum = 0
  let sqSum = 0
  // Welford: the labels' population variance without a second pass or cancellation.
  let mean = 0
  let m2 = 0
  return {
    add(chunk) {
      if (chunk.task !== 'regression') throw new Error('a classification chunk for a regression')
      for (let i = 0; i < chunk.targets.length; i++) {
        const y = chunk.targets[i]!
        const error = chunk.predictions[i]! - y
        absSum += Math.abs(error)
        sqSum += error * error
        n += 1
        const delta = y - mean
        mean += delta / n
        m2 += delta * (y - mean)
      }
    },
    get rows() {
      return n
    },
    metrics() {
      const m = regressionMetrics({ labelled: n, absSum, sqSum, yVar: n > 0 ? m2 / n : 0 })
      return finiteOnly({ mae: m.mae, rmse: m.rmse, r2: m.r2 })
    },
  }
}

export function classificationScore(classes: readonly string[]): HoldoutScore {
  const index = new Map(classes.map((c, i) => [c, i]))
  const counts = new Map<string, { support: number; predicted: number; tp: number }>()
  const count = (cls: string) => {
    let c = counts.get(cls)
    if (!c) counts.set(cls, (c = { support: 0, predicted: 0, tp: 0 }))
    return c
  }
  let n = 0
  let correct = 0
  let scored = 0
  let logLossSum = 0
  const k = classes.length
  return {
    add(chunk) {
      if (chunk.task !== 'classification') {
        throw new Error('a regression chunk for a classification')
      }
      for (let i = 0; i < chunk.targets.length; i++) {
        const y = chunk.targets[i]!
        const predicted = chunk.labels[i]!
        n += 1
        count(y).support += 1
        count(predicted).predicted += 1
        if (predicted === y) {
          correct += 1
          count(y).tp += 1
        }
        const yi = index.get(y)
        if (yi === undefined) continue
        let sum = 0
        for (let j = 0; j < k; j++) sum += clip(chunk.probabilities[i * k + j]!)
        logLossSum += -Math.log(clip(chunk.probabilities[i * k + yi]!) / sum)
        scored += 1
      }
    },
    get rows() {
      return n
    },
    metrics() {
      const m = classificationMetrics({
        labelled: n,
        correct,
        scored,
        logLossSum,
        classes: [...counts.entries()].map(([cls, c]) => ({ cls, ...c })),
      })
      return finiteOnly({
        accuracy: m.accuracy,
        precision: m.precision,
        recall: m.recall,
        f1: m.f1,
        log_loss: m.logLoss,
      })
    },
  }
}

function clip(p: number): number {
  return Math.min(Math.max(p, EPS), 1 - EPS)
}

function finiteOnly(values: Record<string, number | null>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [name, value] of Object.entries(values)) {
    if (value !== null && Number.isFinite(value)) out[name] = value
  }
  return out
}
