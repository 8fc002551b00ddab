import type { AnalyticsMigration } from '../migrations.ts'

/**
 * Feedback's tables and the views analysts query (owned by the feedback context; written by its
 * sinks from `FEEDBACK_LOG` and the context streams).
 *
 * Labels, in two tables filled from the same batches:
 *
 * - `feedback_receipts`: every label as received, corrections included (`label_id` names one
 *   receipt: one row of one request). A ReplacingMergeTree on (model, prediction_id, label_id)
 *   without a version: a batch the sink writes again after a crash holds identical rows, which
 *   collapse; read with FINAL (view `feedback_history`).
 * - `feedback_labels`: the current label of each prediction. ReplacingMergeTree(revision) on
 *   (model, prediction_id): a correction has a higher `revision` (its receipt time, then its
 *   row), so FINAL keeps the last value — view `feedback`.
 *
 * Both are partitioned by the PREDICTION's day (`date`, from the signed prediction id), as
 * `predictions` is: a correction arriving days later lands in the partition of the label it
 * replaces (ReplacingMergeTree only replaces within a partition), and retention drops a day's
 * predictions and labels together.
 *
 * `value_number` is a regression label, `value_class` a classification label; the other is NULL.
 *
 * Views for analysts need no settings (the analyst is `readonly=1` and may not set
 * `join_use_nulls`): joins carry a `labelled` flag and give NULL for a missing label themselves.
 */
export const feedbackMigration: AnalyticsMigration = {
  name: '2026_12_02_00_00_00_feedback',
  statements: [
    `CREATE TABLE IF NOT EXISTS {db}.feedback_receipts (
      label_id String,
      prediction_id String,
      model String,
      version UInt32,
      prediction_time DateTime('UTC'),
      date Date,
      received_at DateTime('UTC'),
      received_ms UInt16,
      revision UInt64,
      value_number Nullable(Float64),
      value_class Nullable(String),
      source String,
      actor String,
      request_id String
    ) ENGINE = ReplacingMergeTree()
    PARTITION BY date
    ORDER BY (model, prediction_id, label_id)`,
    `CREATE TABLE IF NOT EXISTS {db}.feedback_labels (
      label_id String,
      prediction_id String,
      model String,
      version UInt32,
      prediction_time DateTime('UTC'),
      date Date,
      received_at DateTime('UTC'),
      received_ms UInt16,
      revision UInt64,
      value_number Nullable(Float64),
      value_class Nullable(String),
      source String,
      actor String,
      request_id String
    ) ENGINE = ReplacingMergeTree(revision)
    PARTITION BY date
    ORDER BY (model, prediction_id)`,
    // The current label of each prediction (the last correction), each once.
    `CREATE VIEW IF NOT EXISTS {db}.feedback AS SELECT * FROM {db}.feedback_labels FINAL`,
    // Every label ever received, corrections included, each receipt once.
    `CREATE VIEW IF NOT EXISTS {db}.feedback_history AS SELECT * FROM {db}.feedback_receipts FINAL`,
    // Every prediction with its current label when it has one (labelled = 0 and NULLs if not).
    `CREATE VIEW IF NOT EXISTS {db}.prediction_outcomes AS
    SELECT
      prediction_id, request_id, time, date, model, version, variant, caller, status, latency_ms,
      inputs, outputs, prediction, predicted_class,
      has_label = 1 AS labelled,
      if(has_label = 1, label_number, NULL) AS label_number,
      if(has_label = 1, label_class, NULL) AS label_class,
      if(has_label = 1, toNullable(label_received_at), NULL) AS label_received_at,
      if(has_label = 1, toNullable(toInt64(label_received_at) - toInt64(time)), NULL) AS label_delay_seconds,
      if(has_label = 1 AND isNotNull(prediction) AND isNotNull(label_number),
        label_number - prediction, NULL) AS error,
      if(has_label = 1 AND isNotNull(label_class), predicted_class = label_class, NULL) AS correct
    FROM {db}.predictions FINAL
    ANY LEFT JOIN (
      SELECT prediction_id, value_number AS label_number, value_class AS label_class,
        received_at AS label_received_at, toUInt8(1) AS has_label
      FROM {db}.feedback_labels FINAL
    ) USING prediction_id`,
    // Live quality per model, version and hour of prediction, from the labelled predictions.
    `CREATE VIEW IF NOT EXISTS {db}.quality_hourly AS
    SELECT
      model, version, toStartOfHour(time) AS hour,
      count() AS labelled,
      avgIf(abs(label_number - prediction), isNotNull(label_number) AND isNotNull(prediction)) AS mae,
      sqrt(avgIf((label_number - prediction) * (label_number - prediction),
        isNotNull(label_number) AND isNotNull(prediction))) AS rmse,
      1 - avgIf((label_number - prediction) * (label_number - prediction),
        isNotNull(label_number) AND isNotNull(prediction))
        / varPopIf(label_number, isNotNull(label_number) AND isNotNull(prediction)) AS r2,
      avgIf(predicted_class = label_class, isNotNull(label_class)) AS accuracy,
      avg(toInt64(label_received_at) - toInt64(time)) AS mean_label_delay_seconds
    FROM (
      SELECT prediction_id, time, model, version, prediction, predicted_class
      FROM {db}.predictions FINAL WHERE status = 'success'
    )
    ANY INNER JOIN (
      SELECT prediction_id, value_number AS label_number, value_class AS label_class,
        received_at AS label_received_at
      FROM {db}.feedback_labels FINAL
    ) USING prediction_id
    GROUP BY model, version, hour`,
    // Every domain event of every context stream, as its sink wrote it.
    `CREATE TABLE IF NOT EXISTS {db}.domain_events_log (
      event_id String,
      stream String,
      context String,
      sequence UInt64,
      subject String,
      type String,
      schema_version UInt32,
      occurred_at DateTime('UTC'),
      occurred_ms UInt16,
      date Date,
      actor String,
      correlation_id String,
      causation_id String,
      aggregate_id String,
      model String,
      model_version Nullable(UInt32),
      dataset_id String,
      dataset_version_id String,
      run_id String,
      monitor_id String,
      data String
    ) ENGINE = ReplacingMergeTree()
    PARTITION BY toYYYYMM(date)
    ORDER BY (stream, sequence, event_id)`,
    `CREATE VIEW IF NOT EXISTS {db}.domain_events AS SELECT * FROM {db}.domain_events_log FINAL`,
  ],
}
