import type { Readable } from 'node:stream'
import { sqlDate, sqlDateTime, sqlNumber, sqlString, type AnalyticsClient } from '@argmax/analytics'

/**
 * The labelled predictions of a feedback dataset, oldest first: each answered prediction of the
 * model in [from, to) (of `version` if given) with its inputs and its label as it was at
 * `labelsAsOf` — the last correction received by then, so the same request always yields the
 * same rows, however many corrections arrive later.
 */
export function snapshotRows(
  client: AnalyticsClient,
  scope: { model: string; from: Date; to: Date; version?: number | undefined; labelsAsOf: Date },
): Promise<Readable> {
  const db = client.database
  const versionFilter =
    scope.version !== undefined ? `AND version = ${sqlNumber(scope.version)}` : ''
  const days = `date >= ${sqlDate(scope.from)} AND date <= ${sqlDate(scope.to)}`
  return client.queryStream(
    `SELECT prediction_id, version, time, time_ms, inputs, y_number, y_class
    FROM (
      SELECT prediction_id, version, time, time_ms, inputs FROM ${db}.predictions FINAL
      WHERE model = ${sqlString(scope.model)} AND ${days}
        AND time >= ${sqlDateTime(scope.from)} AND time < ${sqlDateTime(scope.to)}
        AND status = 'success' AND variant != 'shadow' ${versionFilter}
    )
    ANY INNER JOIN (
      SELECT prediction_id,
        argMax(value_number, revision) AS y_number,
        argMax(value_class, revision) AS y_class
      FROM ${db}.feedback_receipts FINAL
      WHERE model = ${sqlString(scope.model)} AND ${days}
        AND received_at <= ${sqlDateTime(scope.labelsAsOf)} ${versionFilter}
      GROUP BY prediction_id
    ) USING prediction_id
    ORDER BY time, time_ms, prediction_id`,
    'JSONEachRow',
  )
}

export interface SnapshotRow {
  prediction_id: string
  version: number
  time: string
  time_ms: number
  inputs: string
  y_number: number | null
  y_class: string | null
}
