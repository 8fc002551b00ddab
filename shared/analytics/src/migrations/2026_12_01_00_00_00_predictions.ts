import type { AnalyticsMigration } from '../migrations.ts'

/**
 * `predictions`: one row per prediction id, written by inference's prediction-log sink.
 *
 * - ReplacingMergeTree keyed by (model, prediction_id): a batch the sink sends again after a
 *   crash or an outage (ClickHouse 18.16 stores a re-sent INSERT twice) holds identical rows,
 *   which collapse when parts merge; queries that must count each prediction once read it with
 *   FINAL — the `inference_log` view does.
 * - Partitioned by day (`date`), so retention drops whole days (18.16 has no TTL) after
 *   archiving them to S3.
 * - `inputs`/`outputs` are JSON text (`visitParamExtract*` on 18.16, `JSONExtract*` later);
 *   `prediction` (regression) and `predicted_class` (classification) are the answer as a
 *   column, for feedback's joins. A request that failed has one row whose `prediction_id` is
 *   `error:<log record id>` and `status = 'error'`.
 */
export const predictionsMigration: AnalyticsMigration = {
  name: '2026_12_01_00_00_00_predictions',
  statements: [
    `CREATE TABLE IF NOT EXISTS {db}.predictions (
      prediction_id String,
      request_id String,
      time DateTime('UTC'),
      time_ms UInt16,
      date Date,
      model String,
      version UInt32,
      variant String,
      release_sequence Nullable(UInt64),
      caller String,
      protocol String,
      status String,
      error String,
      latency_ms Float64,
      inputs String,
      outputs String,
      prediction Nullable(Float64),
      predicted_class Nullable(String),
      batch_id String,
      row_index UInt32
    ) ENGINE = ReplacingMergeTree()
    PARTITION BY date
    ORDER BY (model, prediction_id)`,
    // What analysts query: each prediction once, whether or not its part has merged yet.
    `CREATE VIEW IF NOT EXISTS {db}.inference_log AS SELECT * FROM {db}.predictions FINAL`,
  ],
}
