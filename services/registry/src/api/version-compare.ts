import type { VersionList, VersionView } from './contract.ts'

/** Errors and losses are better low; scores (r2, accuracy, auc) high. */
const LOWER_IS_BETTER = /(rmse|mae|mse|mape|loss|error|logloss|log_loss)/i

export function defaultOrder(metric: string): 'asc' | 'desc' {
  return LOWER_IS_BETTER.test(metric) ? 'asc' : 'desc'
}

/**
 * Versions side by side (what MLflow's compare view gives): every metric any of them has, and
 * with `metric` the versions sorted by it, best first — those without it last, newest first.
 */
export function compareVersions(
  versions: VersionView[],
  metric: string | undefined,
  order: 'asc' | 'desc' | undefined,
): VersionList {
  const metrics = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort()
  if (metric === undefined) return { items: versions, metrics, compare: null }
  const direction = order ?? defaultOrder(metric)
  const has = versions.filter((v) => typeof v.metrics[metric] === 'number')
  const missing = versions.filter((v) => typeof v.metrics[metric] !== 'number')
  has.sort((a, b) => {
    const difference = a.metrics[metric]! - b.metrics[metric]!
    return (direction === 'asc' ? difference : -difference) || b.version - a.version
  })
  return {
    items: [...has, ...missing],
    metrics,
    compare: { metric, order: direction, missing: missing.map((v) => v.version) },
  }
}
