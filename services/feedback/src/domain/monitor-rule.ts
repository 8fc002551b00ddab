import type { ModelTask } from '@argmax/contracts'
import type { WindowName } from './windows.ts'

/**
 * What a monitor watches. Quality metrics are computed over the labelled predictions of the
 * window; `coverage` is the labelled share of predictions, `labels` their count; drift metrics
 * (`psi` of one `feature`, `prediction_psi`, `max_psi` over every input) over all predictions.
 */
export const MONITOR_METRICS = [
  'mae',
  'rmse',
  'r2',
  'accuracy',
  'precision',
  'recall',
  'f1',
  'log_loss',
  'coverage',
  'labels',
  'psi',
  'prediction_psi',
  'max_psi',
] as const
export type MonitorMetric = (typeof MONITOR_METRICS)[number]

export const COMPARISONS = ['>', '>=', '<', '<='] as const
export type Comparison = (typeof COMPARISONS)[number]

export const REGRESSION_METRICS: readonly MonitorMetric[] = ['mae', 'rmse', 'r2']
export const CLASSIFICATION_METRICS: readonly MonitorMetric[] = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'log_loss',
]
export const DRIFT_METRICS: readonly MonitorMetric[] = ['psi', 'prediction_psi', 'max_psi']

export interface MonitorRule {
  metric: MonitorMetric
  /** For `psi`: the input whose drift is watched. */
  feature?: string
  comparison: Comparison
  /** A fixed threshold … */
  threshold?: number
  /**
   * … or one relative to the evaluated version's own test metric of the same name (from its
   * `ModelVersionRegistered.metrics`): `1.2` with `mae` fires above 1.2 × the test MAE.
   */
  relativeToTest?: number
  window: WindowName
  /** The condition must hold this long before the monitor fires (PENDING meanwhile). */
  forSeconds: number
  /** Fewer labelled predictions (drift: predictions) in the window than this: no verdict. */
  minLabels: number
  /** Watch this version; unset: the model's current stable version. */
  version?: number
}

/** Why a rule cannot be used for a model of `task`, or undefined when it can. */
export function ruleProblem(
  rule: MonitorRule,
  task: ModelTask | null,
): { field: string; message: string } | undefined {
  if ((rule.threshold === undefined) === (rule.relativeToTest === undefined)) {
    return { field: 'threshold', message: 'give exactly one of threshold and relativeToTest' }
  }
  if (rule.metric === 'psi' && !rule.feature) {
    return { field: 'feature', message: 'the psi metric watches one input: name it' }
  }
  if (rule.metric !== 'psi' && rule.feature !== undefined) {
    return { field: 'feature', message: 'only the psi metric takes a feature' }
  }
  if (rule.relativeToTest !== undefined && !testMetricName(rule.metric)) {
    return {
      field: 'relativeToTest',
      message: `${rule.metric} has no test metric to be relative to; give a threshold`,
    }
  }
  if (task === 'regression' && CLASSIFICATION_METRICS.includes(rule.metric)) {
    return { field: 'metric', message: `${rule.metric} needs a classification model` }
  }
  if (task === 'classification' && REGRESSION_METRICS.includes(rule.metric)) {
    return { field: 'metric', message: `${rule.metric} needs a regression model` }
  }
  return undefined
}

/** The name of the test metric a relative threshold multiplies (training's metrics.json). */
export function testMetricName(metric: MonitorMetric): string | undefined {
  return [...REGRESSION_METRICS, 'accuracy', 'log_loss'].includes(metric) ? metric : undefined
}

export function breaches(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case '>':
      return value > threshold
    case '>=':
      return value >= threshold
    case '<':
      return value < threshold
    case '<=':
      return value <= threshold
    default: {
      const unknown: never = comparison
      return unknown
    }
  }
}

/**
 * The monitors every released model gets (from its version's own test metrics): quality well
 * below what the test split promised — MAE above 1.2× the test MAE, or accuracy below 0.8× —
 * for 5 minutes over the last hour with at least 50 labels; and any input drifting (PSI > 0.2)
 * for 15 minutes over the last hour of at least 100 predictions.
 */
export function defaultRules(
  task: ModelTask,
): Array<{ key: string; name: string; rule: MonitorRule }> {
  const quality: MonitorRule =
    task === 'regression'
      ? {
          metric: 'mae',
          comparison: '>',
          relativeToTest: 1.2,
          window: '1h',
          forSeconds: 300,
          minLabels: 50,
        }
      : {
          metric: 'accuracy',
          comparison: '<',
          relativeToTest: 0.8,
          window: '1h',
          forSeconds: 300,
          minLabels: 50,
        }
  return [
    {
      key: 'quality',
      name:
        task === 'regression'
          ? 'MAE above 1.2× its test MAE'
          : 'accuracy below 0.8× its test accuracy',
      rule: quality,
    },
    {
      key: 'drift',
      name: 'an input drifting (PSI above 0.2)',
      rule: {
        metric: 'max_psi',
        comparison: '>',
        threshold: 0.2,
        window: '1h',
        forSeconds: 900,
        minLabels: 100,
      },
    },
  ]
}
