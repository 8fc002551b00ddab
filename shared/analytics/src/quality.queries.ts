import type { AnalyticsClient } from './client.ts'
import type { ModelSignature } from '@argmax/contracts'
import {
  jsonNumberArray,
  sqlDate,
  sqlDateTime,
  sqlNumber,
  sqlString,
  sqlStringArray,
} from './sql.ts'

/**
 * Live quality in ClickHouse: the predictions of a model in a window joined with their current
 * labels, aggregated per version (and per time bucket for the series). ClickHouse returns sums
 * and counts; the few divisions that turn them into metrics are done by `quality-metrics.ts`,
 * with the same formulas scikit-learn uses. One copy for every reader: feedback's quality view
 * and monitors, and the registry's canary judgement.
 */
export interface QualityScope {
  db: string
  model: string
  /** Prediction time, inclusive. */
  from: Date
  /** Prediction time, inclusive unless `toExclusive` (a rollout's `[from, to)` windows). */
  to: Date
  toExclusive?: boolean | undefined
  version?: number | undefined
  /**
   * The variants that count (default: every answered one, shadow excluded). A rollout counts
   * only what the release routed, `stable` and `canary`, as its traffic signals do.
   */
  variants?: readonly PredictionVariant[] | undefined
}

type PredictionVariant = 'stable' | 'canary' | 'pinned'

/** The successful, answered (not shadow) predictions of the scope. */
function predictionsOf(scope: QualityScope, columns: string): string {
  const variants = scope.variants
    ? `variant IN (${scope.variants.map(sqlString).join(', ')})`
    : "variant != 'shadow'"
  return `SELECT ${columns} FROM ${scope.db}.predictions FINAL
    WHERE model = ${sqlString(scope.model)}
      AND date >= ${sqlDate(scope.from)} AND date <= ${sqlDate(scope.to)}
      AND time >= ${sqlDateTime(scope.from)} AND time ${scope.toExclusive ? '<' : '<='} ${sqlDateTime(scope.to)}
      AND status = 'success' AND ${variants}
      ${scope.version !== undefined ? `AND version = ${sqlNumber(scope.version)}` : ''}`
}

/**
 * The current labels that can match: of the model (and version), in the prediction days of the
 * scope (labels live in their prediction's day partition, so the day filter prunes whole
 * partitions) and made for predictions of the window (`prediction_time` comes from the signed id,
 * the same second as the prediction's `time`), so the join's hash table holds only labels that can
 * meet a prediction of the scope.
 */
function labelsOf(scope: QualityScope, columns: string): string {
  return `SELECT ${columns} FROM ${scope.db}.feedback_labels FINAL
    WHERE model = ${sqlString(scope.model)}
      AND date >= ${sqlDate(scope.from)} AND date <= ${sqlDate(scope.to)}
      AND prediction_time >= ${sqlDateTime(scope.from)} AND prediction_time ${scope.toExclusive ? '<' : '<='} ${sqlDateTime(scope.to)}
      ${scope.version !== undefined ? `AND version = ${sqlNumber(scope.version)}` : ''}`
}

export interface PredictionCountRow {
  version: number
  predictions: string
}

export function predictionCounts(client: AnalyticsClient, scope: QualityScope) {
  return client.query<PredictionCountRow>(
    `SELECT version, count() AS predictions FROM (${predictionsOf(scope, 'version')}) GROUP BY version`,
  )
}

/** Aggregates of one version (or one bucket of it), as ClickHouse returns them. */
export interface RegressionRow {
  version: number
  bucket?: number
  labelled: string
  abs_sum: number
  sq_sum: number
  y_var: number
  delay_mean: number
  delay_p50: number
  delay_p90: number
}

const delay = '(r_ms - t_ms) / 1000'

function regressionJoin(scope: QualityScope): string {
  return `SELECT version,
      count() AS labelled,
      sum(abs(y - p)) AS abs_sum,
      sum((y - p) * (y - p)) AS sq_sum,
      varPop(y) AS y_var,
      avg(${delay}) AS delay_mean,
      quantileExact(0.5)(${delay}) AS delay_p50,
      quantileExact(0.9)(${delay}) AS delay_p90
    FROM (${predictionsOf(scope, 'prediction_id, version, time, assumeNotNull(prediction) AS p, toInt64(time) * 1000 + time_ms AS t_ms, isNotNull(prediction) AS has_p')})
    ANY INNER JOIN (${labelsOf(scope, 'prediction_id, assumeNotNull(value_number) AS y, toInt64(received_at) * 1000 + received_ms AS r_ms, isNotNull(value_number) AS has_y')})
    USING prediction_id
    WHERE has_p AND has_y
    GROUP BY version`
}

/**
 * A version's window in one scan, for the quality view: the predictions of the scope LEFT JOINed
 * with their current labels (a `matched` flag from the label side, so no `join_use_nulls` is
 * needed), aggregated per time bucket, then per version — its prediction count, the window's
 * aggregates (the label variance and delay quantiles merged from the buckets' states) and the
 * buckets' aggregates as arrays for the series. One join instead of a count, a window join and a
 * series join: the join is what costs.
 */
export interface RegressionWindowRow extends RegressionRow {
  predictions: string
  /** Buckets of the window that had predictions, in no order; the arrays below follow them. */
  buckets: Array<string | number>
  bucket_labelled: Array<string | number>
  bucket_abs_sum: number[]
  bucket_sq_sum: number[]
  bucket_y_var: number[]
}

export function regressionWindow(
  client: AnalyticsClient,
  scope: QualityScope,
  bucketSeconds: number,
) {
  const ok = 'matched AND has_p AND has_y'
  return client.query<RegressionWindowRow>(
    `SELECT version,
      sum(n) AS predictions,
      sum(labelled_b) AS labelled,
      sum(abs_b) AS abs_sum,
      sum(sq_b) AS sq_sum,
      varPopMerge(y_var_b) AS y_var,
      if(labelled > 0, sum(delay_b) / labelled, 0) AS delay_mean,
      quantilesExactMerge(0.5, 0.9)(delays_b) AS delay_quantiles,
      delay_quantiles[1] AS delay_p50,
      delay_quantiles[2] AS delay_p90,
      groupArray(bucket) AS buckets,
      groupArray(labelled_b) AS bucket_labelled,
      groupArray(abs_b) AS bucket_abs_sum,
      groupArray(sq_b) AS bucket_sq_sum,
      groupArray(finalizeAggregation(y_var_b)) AS bucket_y_var
    FROM (
      SELECT version,
        intDiv(toUInt32(time) - toUInt32(${sqlDateTime(scope.from)}), ${sqlNumber(bucketSeconds)}) AS bucket,
        count() AS n,
        countIf(${ok}) AS labelled_b,
        sumIf(abs(y - p), ${ok}) AS abs_b,
        sumIf((y - p) * (y - p), ${ok}) AS sq_b,
        varPopStateIf(y, ${ok}) AS y_var_b,
        sumIf(${delay}, ${ok}) AS delay_b,
        quantilesExactStateIf(0.5, 0.9)(${delay}, ${ok}) AS delays_b
      FROM (${predictionsOf(scope, 'prediction_id, version, time, assumeNotNull(prediction) AS p, toInt64(time) * 1000 + time_ms AS t_ms, isNotNull(prediction) AS has_p')})
      ANY LEFT JOIN (${labelsOf(scope, 'prediction_id, assumeNotNull(value_number) AS y, toInt64(received_at) * 1000 + received_ms AS r_ms, isNotNull(value_number) AS has_y, toUInt8(1) AS matched')})
      USING prediction_id
      GROUP BY version, bucket
    )
    GROUP BY version`,
  )
}

export function regressionQuality(client: AnalyticsClient, scope: QualityScope) {
  return client.query<RegressionRow>(regressionJoin(scope))
}

export interface ClassificationRow {
  version: number
  bucket?: number
  labelled: string
  correct: string
  /** Rows whose logged probabilities cover every class (log loss is computed over them). */
  scored: string
  log_loss_sum: number
  delay_mean: number
  delay_p50: number
  delay_p90: number
}

export interface ClassCountRow {
  version: number
  cls: string
  support: string
  predicted: string
  tp: string
}

/** scikit-learn's `log_loss` clips with float64's epsilon, then renormalises each row. */
const EPS = '2.220446049250313e-16'

function classificationJoin(
  scope: QualityScope,
  signature: ModelSignature,
  bucketSeconds?: number,
) {
  const bucket =
    bucketSeconds !== undefined
      ? `intDiv(toUInt32(time) - toUInt32(${sqlDateTime(scope.from)}), ${sqlNumber(bucketSeconds)}) AS bucket,`
      : ''
  return `SELECT version, ${bucket}
      count() AS labelled,
      sum(pc = y) AS correct,
      sum(has_probs AND y_index > 0) AS scored,
      sumIf(-log(probs[y_index] / arraySum(probs)), has_probs AND y_index > 0) AS log_loss_sum,
      avg(${delay}) AS delay_mean,
      quantileExact(0.5)(${delay}) AS delay_p50,
      quantileExact(0.9)(${delay}) AS delay_p90
    FROM (${joinedClassification(scope, signature)})
    GROUP BY version${bucketSeconds !== undefined ? ', bucket' : ''}`
}

/** Every labelled prediction with its class, true class, clipped probabilities and delays. */
function joinedClassification(scope: QualityScope, signature: ModelSignature): string {
  const classes = signature.classes ?? []
  const probabilities =
    signature.outputs.find((output) => output.datatype !== 'BYTES' && output.shape.length === 2)
      ?.name ?? 'probabilities'
  const clipped = `arrayMap(x -> greatest(least(x, 1 - ${EPS}), ${EPS}), ${jsonNumberArray('outputs', probabilities)})`
  return `SELECT version, time, pc, y, t_ms, r_ms, probs,
      length(probs) = ${sqlNumber(classes.length)} AS has_probs,
      indexOf(${sqlStringArray(classes)}, y) AS y_index
    FROM (${predictionsOf(scope, `prediction_id, version, time, assumeNotNull(predicted_class) AS pc, toInt64(time) * 1000 + time_ms AS t_ms, isNotNull(predicted_class) AS has_p, ${clipped} AS probs`)})
    ANY INNER JOIN (${labelsOf(scope, 'prediction_id, assumeNotNull(value_class) AS y, toInt64(received_at) * 1000 + received_ms AS r_ms, isNotNull(value_class) AS has_y')})
    USING prediction_id
    WHERE has_p AND has_y`
}

export function classificationQuality(
  client: AnalyticsClient,
  scope: QualityScope,
  signature: ModelSignature,
) {
  return client.query<ClassificationRow>(classificationJoin(scope, signature))
}

export function classificationSeries(
  client: AnalyticsClient,
  scope: QualityScope,
  signature: ModelSignature,
  bucketSeconds: number,
) {
  return client.query<ClassificationRow>(classificationJoin(scope, signature, bucketSeconds))
}

/** Per version and class: true count, predicted count, true positives (for macro P/R/F1). */
export function classCounts(
  client: AnalyticsClient,
  scope: QualityScope,
  signature: ModelSignature,
) {
  return client.query<ClassCountRow>(
    `SELECT version, cls, sum(y = cls) AS support, sum(pc = cls) AS predicted, sum(y = cls AND pc = cls) AS tp
    FROM (${joinedClassification(scope, signature)})
    ARRAY JOIN arrayFilter((c, i) -> i = 1 OR c != y, [y, pc], [1, 2]) AS cls
    GROUP BY version, cls`,
  )
}
