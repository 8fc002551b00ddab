/**
 * The last step of live quality: sums and counts from ClickHouse turned into metrics with
 * scikit-learn's formulas, so the numbers agree with it (`mean_absolute_error`,
 * `mean_squared_error` ** 0.5, `r2_score`, `accuracy_score`, `precision_recall_fscore_support`
 * with `average='macro'` and zero_division 0, `log_loss` with probabilities clipped to float64's
 * epsilon and renormalised).
 */
export interface RegressionSums {
  labelled: number
  absSum: number
  sqSum: number
  /** Population variance of the labels. */
  yVar: number
}

export function regressionMetrics(s: RegressionSums): {
  mae: number | null
  rmse: number | null
  r2: number | null
} {
  if (s.labelled === 0) return { mae: null, rmse: null, r2: null }
  const mse = s.sqSum / s.labelled
  // r2_score: 1 − SS_res / SS_tot; with constant labels sklearn answers 1.0 for a perfect fit
  // and 0.0 otherwise.
  const r2 = s.yVar > 0 ? 1 - mse / s.yVar : mse === 0 ? 1 : 0
  return { mae: s.absSum / s.labelled, rmse: Math.sqrt(mse), r2: s.labelled > 1 ? r2 : null }
}

export interface ClassCounts {
  cls: string
  support: number
  predicted: number
  tp: number
}

export function classificationMetrics(input: {
  labelled: number
  correct: number
  scored: number
  logLossSum: number
  classes: readonly ClassCounts[]
}): {
  accuracy: number | null
  precision: number | null
  recall: number | null
  f1: number | null
  logLoss: number | null
} {
  if (input.labelled === 0) {
    return { accuracy: null, precision: null, recall: null, f1: null, logLoss: null }
  }
  // Macro averages over every class seen as truth or prediction, as sklearn's unique_labels.
  let precision = 0
  let recall = 0
  let f1 = 0
  for (const c of input.classes) {
    const p = c.predicted > 0 ? c.tp / c.predicted : 0
    const r = c.support > 0 ? c.tp / c.support : 0
    const denominator = p + r
    precision += p
    recall += r
    f1 += denominator === 0 ? 0 : (2 * p * r) / denominator
  }
  const k = input.classes.length
  return {
    accuracy: input.correct / input.labelled,
    precision: k > 0 ? precision / k : null,
    recall: k > 0 ? recall / k : null,
    f1: k > 0 ? f1 / k : null,
    logLoss: input.scored > 0 ? input.logLossSum / input.scored : null,
  }
}
