import type { Binning } from '../domain/psi.ts'
import {
  jsonNumber,
  jsonText,
  sqlDate,
  sqlDateTime,
  sqlNumber,
  sqlString,
  sqlStringArray,
  type AnalyticsClient,
} from '@argmax/analytics'

/** One binned quantity: an input of the log's `inputs` JSON, or the prediction itself. */
export interface DriftTarget {
  /** `input` reads `inputs.<name>`; `prediction` the regression output or predicted class. */
  source: { kind: 'input'; name: string } | { kind: 'prediction' }
  binning: Binning
}

/**
 * The live histograms of a version's predictions in a window, over the bins of the training
 * profile, in one scan of the prediction log: each target's value is read from the row's JSON
 * (or prediction column), given its bin index (-1 missing; numeric: how many inner edges it is
 * at or above; categorical: its position among the profile's top values, 0 for any other), and
 * counted with `sumMap`. Returns the prediction count and, per target, bin → count.
 */
export async function liveHistograms(
  client: AnalyticsClient,
  scope: { db: string; model: string; version: number; from: Date; to: Date },
  targets: readonly DriftTarget[],
): Promise<{ predictions: number; histograms: Array<Map<number, number>> }> {
  if (targets.length === 0) {
    const [row] = await client.query<{ n: string }>(
      `SELECT count() AS n FROM (${logRows(scope, '1')})`,
    )
    return { predictions: Number(row?.n ?? 0), histograms: [] }
  }
  const values = targets.map((target, i) => `${valueOf(target)} AS v${i}`).join(', ')
  const bins = targets
    .map(
      (target, i) => `sumMap([toInt32(${binOf(target.binning, `v${i}`)})], [toUInt64(1)]) AS h${i}`,
    )
    .join(', ')
  const [row] = await client.query<Record<string, unknown>>(
    `SELECT count() AS n, ${bins} FROM (${logRows(scope, values)})`,
  )
  const histograms = targets.map((_, i) => {
    const [keys, counts] = (row?.[`h${i}`] as [number[], Array<number | string>] | undefined) ?? [
      [],
      [],
    ]
    return new Map(keys.map((key, j) => [Number(key), Number(counts[j])]))
  })
  return { predictions: Number(row?.n ?? 0), histograms }
}

function logRows(
  scope: { db: string; model: string; version: number; from: Date; to: Date },
  columns: string,
): string {
  return `SELECT ${columns} FROM ${scope.db}.predictions FINAL
    WHERE model = ${sqlString(scope.model)} AND version = ${sqlNumber(scope.version)}
      AND date >= ${sqlDate(scope.from)} AND date <= ${sqlDate(scope.to)}
      AND time >= ${sqlDateTime(scope.from)} AND time <= ${sqlDateTime(scope.to)}
      AND status = 'success' AND variant != 'shadow'`
}

function valueOf(target: DriftTarget): string {
  const numeric = target.binning.kind === 'numeric'
  if (target.source.kind === 'prediction') return numeric ? 'prediction' : 'predicted_class'
  if (numeric) return jsonNumber('inputs', target.source.name)
  // A missing category reaches the model (and the log) as "": the gateway sends it so, and the
  // built-in trainers' graphs read it as missing. The profile counts it with the nulls.
  return `nullIf(${jsonText('inputs', target.source.name)}, '')`
}

function binOf(binning: Binning, value: string): string {
  if (binning.kind === 'numeric') {
    const edges = `[${binning.edges.map((e) => sqlNumber(e)).join(', ')}]`
    return binning.edges.length === 0
      ? `if(isNull(${value}), -1, 0)`
      : `if(isNull(${value}), -1, toInt64(arraySum(arrayMap(e -> assumeNotNull(${value}) >= e, ${edges}))))`
  }
  return `if(isNull(${value}), -1, toInt64(indexOf(${sqlStringArray(binning.values)}, assumeNotNull(${value}))))`
}
