/**
 * Population Stability Index between a baseline distribution (the training dataset's profile)
 * and a live one, over the same bins: Σ (a − e) · ln(a / e) of the bins' shares. Empty bins
 * would make it infinite, so shares are floored at EPSILON (the common practice). Rules of
 * thumb: < 0.1 stable, 0.1–0.2 a shift worth watching, > 0.2 a significant shift.
 */
export const PSI_EPSILON = 1e-4

export interface PsiBin {
  bin: string
  expected: number
  actual: number
}

export function psi(bins: readonly PsiBin[]): number {
  let total = 0
  for (const { expected, actual } of bins) {
    const e = Math.max(expected, PSI_EPSILON)
    const a = Math.max(actual, PSI_EPSILON)
    total += (a - e) * Math.log(a / e)
  }
  return total
}

/** Shares from counts (all zero → all zero). */
export function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((sum, n) => sum + n, 0)
  return counts.map((n) => (total > 0 ? n / total : 0))
}

/** The training profile's shapes that drift is measured against (dataset's validator output). */
export interface ProfileColumn {
  name: string
  type: string
  count: number
  nulls: number
  topValues: Array<{ value: string; count: number }>
  numeric?: { histogram: Array<{ lower: number; upper: number; count: number }> }
}

export interface DatasetProfile {
  rowCount: number
  columns: ProfileColumn[]
}

/** How one input (or the prediction) is binned: numeric edges or categorical values. */
export type Binning =
  | {
      kind: 'numeric'
      /** Inner edges: bin i holds edges[i-1] ≤ x < edges[i]; the outer bins are open-ended. */
      edges: number[]
      labels: string[]
      /** Baseline counts per bin, then the missing count. */
      baseline: number[]
    }
  | {
      kind: 'categorical'
      values: string[]
      labels: string[]
      /** Baseline counts: `other`, each value, then missing. */
      baseline: number[]
    }

/** Top values kept as their own bins; the rest share `other`. */
export const MAX_CATEGORIES = 50

/** Binning of a profiled column, or undefined when it cannot be binned (timestamps, empty). */
export function binningOf(column: ProfileColumn): Binning | undefined {
  const histogram = column.numeric?.histogram ?? []
  if ((column.type === 'integer' || column.type === 'float') && histogram.length > 0) {
    return {
      kind: 'numeric',
      edges: histogram.slice(1).map((bin) => bin.lower),
      labels: histogram.map((bin, i) =>
        i === 0
          ? `< ${histogram[1]?.lower ?? '∞'}`
          : i === histogram.length - 1
            ? `≥ ${bin.lower}`
            : `[${bin.lower}, ${bin.upper})`,
      ),
      baseline: [...histogram.map((bin) => bin.count), column.nulls],
    }
  }
  if (column.type === 'string' || column.type === 'boolean') {
    const top = column.topValues.slice(0, MAX_CATEGORIES)
    const other = Math.max(0, column.count - top.reduce((sum, v) => sum + v.count, 0))
    return {
      kind: 'categorical',
      values: top.map((v) => v.value),
      labels: ['(other)', ...top.map((v) => v.value)],
      baseline: [other, ...top.map((v) => v.count), column.nulls],
    }
  }
  return undefined
}

/**
 * PSI of a live histogram against a binning: `live` maps the bin index the SQL computed (-1
 * missing; numeric 0..k-1; categorical 0 = other, 1..k the values) to its count. The missing
 * bin takes part only when the baseline or the live data has missing values.
 */
export function psiOf(
  binning: Binning,
  live: ReadonlyMap<number, number>,
): { psi: number | null; bins: PsiBin[] } {
  const labels = binning.labels
  const liveCounts = labels.map((_, i) => live.get(i) ?? 0)
  const missingBaseline = binning.baseline.at(-1) ?? 0
  const missingLive = live.get(-1) ?? 0
  const withMissing = missingBaseline > 0 || missingLive > 0
  const expected = shares(withMissing ? binning.baseline : binning.baseline.slice(0, -1))
  const actual = shares(withMissing ? [...liveCounts, missingLive] : liveCounts)
  const names = withMissing ? [...labels, '(missing)'] : labels
  const bins = names.map((bin, i) => ({ bin, expected: expected[i] ?? 0, actual: actual[i] ?? 0 }))
  const liveTotal = liveCounts.reduce((sum, n) => sum + n, 0) + missingLive
  return { psi: liveTotal > 0 ? psi(bins) : null, bins }
}
