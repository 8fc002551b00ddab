import { z } from 'zod'
import { analyticsDatabaseSettings } from '@argmax/analytics'
import {
  authSettings,
  clickhouseSettings,
  envConfig,
  envInt,
  envString,
  httpSettings,
  loadConfig,
  natsSettings,
  postgresSettings,
  s3Settings,
  type Env,
} from '@argmax/config'
import { FEEDBACK_STREAM_NAMES } from './streams.ts'

const DAY_SECONDS = 24 * 3600
const token = (what: string) =>
  envString().regex(/^[A-Za-z0-9_-]+$/, `must be ${what}: letters, digits, _ or -`)
const secret = z.string().min(32, 'must be at least 32 characters')
const onOff = z.enum(['embedded', 'off'], { error: 'must be embedded or off' })

/** The streams feedback writes and follows, and their subject roots: the service and the sinks. */
const streamNameVariables = {
  ARGMAX_FEEDBACK_STREAM: token('a stream name').default(FEEDBACK_STREAM_NAMES.feedback.stream),
  ARGMAX_FEEDBACK_SUBJECT_ROOT: token('one subject token').default(
    FEEDBACK_STREAM_NAMES.feedback.root,
  ),
  ARGMAX_FEEDBACK_LOG_STREAM: token('a stream name').default(FEEDBACK_STREAM_NAMES.log.stream),
  ARGMAX_FEEDBACK_LOG_SUBJECT_ROOT: token('one subject token').default(
    FEEDBACK_STREAM_NAMES.log.root,
  ),
  ARGMAX_REGISTRY_STREAM: token('a stream name').default(FEEDBACK_STREAM_NAMES.registry.stream),
  ARGMAX_REGISTRY_SUBJECT_ROOT: token('one subject token').default(
    FEEDBACK_STREAM_NAMES.registry.root,
  ),
  ARGMAX_DATASET_STREAM: token('a stream name').default(FEEDBACK_STREAM_NAMES.dataset.stream),
  ARGMAX_DATASET_SUBJECT_ROOT: token('one subject token').default(
    FEEDBACK_STREAM_NAMES.dataset.root,
  ),
  ARGMAX_TRAINING_STREAM: token('a stream name').default(FEEDBACK_STREAM_NAMES.training.stream),
  ARGMAX_TRAINING_SUBJECT_ROOT: token('one subject token').default(
    FEEDBACK_STREAM_NAMES.training.root,
  ),
}

function streamNamesOf(env: z.infer<z.ZodObject<typeof streamNameVariables>>) {
  return {
    feedback: { stream: env.ARGMAX_FEEDBACK_STREAM, root: env.ARGMAX_FEEDBACK_SUBJECT_ROOT },
    log: { stream: env.ARGMAX_FEEDBACK_LOG_STREAM, root: env.ARGMAX_FEEDBACK_LOG_SUBJECT_ROOT },
    registry: { stream: env.ARGMAX_REGISTRY_STREAM, root: env.ARGMAX_REGISTRY_SUBJECT_ROOT },
    dataset: { stream: env.ARGMAX_DATASET_STREAM, root: env.ARGMAX_DATASET_SUBJECT_ROOT },
    training: { stream: env.ARGMAX_TRAINING_STREAM, root: env.ARGMAX_TRAINING_SUBJECT_ROOT },
  }
}

/** The sinks' settings, read by the service (sinks embedded) and by the sinks' own process. */
const sinkVariables = {
  ARGMAX_FEEDBACK_SINK: onOff.default('embedded'),
  /**
   * Label records (each under 512 KiB: about 2,000 labels) per ClickHouse write, and how many
   * the sink's pull asks for at once. 20 (~40,000 labels a write): with 200 (~100 MB asked
   * for) the bench saw the pull now and then stop being served while records waited, until
   * it expired 5 s later (bench/README). Most likely nats-server cutting the sink off as a
   * slow consumer past its 64 MiB max_pending, as the prediction sink's bench showed; pulls
   * are now bounded in bytes as well (maxPullBytes), but 200 has not been measured again.
   */
  ARGMAX_FEEDBACK_SINK_MAX_BATCH: envInt({ min: 1, max: 10_000 }).default(20),
  ARGMAX_FEEDBACK_SINK_MAX_WAIT_MS: envInt({ min: 0, max: 60_000 }).default(100),
  /** A batch that makes no progress this long goes back to the stream (a killed sink's). */
  ARGMAX_FEEDBACK_SINK_ACK_WAIT_SECONDS: envInt({ min: 1, max: 3_600 }).default(30),
  /** The sink of every context stream into `domain_events`. */
  ARGMAX_FEEDBACK_EVENTS_SINK: onOff.default('embedded'),
}

function sinksOf(env: z.infer<z.ZodObject<typeof sinkVariables>>) {
  return {
    sink: {
      mode: env.ARGMAX_FEEDBACK_SINK,
      maxBatch: env.ARGMAX_FEEDBACK_SINK_MAX_BATCH,
      maxWaitMs: env.ARGMAX_FEEDBACK_SINK_MAX_WAIT_MS,
      ackWaitMs: env.ARGMAX_FEEDBACK_SINK_ACK_WAIT_SECONDS * 1000,
    },
    eventsSink: env.ARGMAX_FEEDBACK_EVENTS_SINK,
  }
}

/** Settings only the feedback service reads. */
export const feedbackSettings = z
  .object({
    /** HMAC key of prediction ids, shared with inference (which issues them). */
    ARGMAX_PREDICTION_ID_SECRET: secret,
    /**
     * Key that per-monitor webhook signing secrets derive from. Unset: derived from the
     * prediction id secret (a separate key is better in production).
     */
    ARGMAX_FEEDBACK_WEBHOOK_SECRET: secret.optional(),
    /** Labels older than this (by their prediction's time) are refused; days kept in ClickHouse. */
    ARGMAX_FEEDBACK_RETENTION_DAYS: envInt({ min: 1, max: 3650 }).default(30),
    /** 0 turns the archive-and-drop schedule off. */
    ARGMAX_FEEDBACK_RETENTION_INTERVAL_SECONDS: envInt({ min: 0, max: 7 * DAY_SECONDS }).default(
      3600,
    ),
    /** Labels one request may carry. */
    ARGMAX_FEEDBACK_MAX_LABELS: envInt({ min: 1, max: 100_000 }).default(10_000),
    /** How long an `Idempotency-Key` is remembered. */
    ARGMAX_FEEDBACK_IDEMPOTENCY_HOURS: envInt({ min: 1, max: 24 * 30 }).default(24),
    /** Archived feedback days and feedback dataset snapshots. */
    ARGMAX_ANALYTICS_BUCKET: envString().default('argmax-analytics'),
    ...sinkVariables,
    /** Monitors, gauges and drift are evaluated this often (0: never, e.g. a second replica). */
    ARGMAX_FEEDBACK_EVALUATION_INTERVAL_SECONDS: envInt({ min: 0, max: DAY_SECONDS }).default(30),
    /**
     * How long one ClickHouse query (quality, drift, exports) may take before it answers 503.
     * Quality over a window of ten million predictions takes tens of seconds on a small server.
     */
    ARGMAX_FEEDBACK_QUERY_TIMEOUT_SECONDS: envInt({ min: 1, max: 3_600 }).default(30),
    /** The window the Prometheus gauges describe (`5m`, `1h`, `1d` or `release`). */
    ARGMAX_FEEDBACK_GAUGE_WINDOW: z
      .enum(['5m', '1h', '1d', 'release'], { error: 'must be 5m, 1h, 1d or release' })
      .default('1h'),
    ARGMAX_FEEDBACK_WEBHOOK_TIMEOUT_MS: envInt({ min: 100, max: 120_000 }).default(10_000),
    /** Deliveries of one notification before it is parked for an operator. */
    ARGMAX_FEEDBACK_WEBHOOK_MAX_DELIVER: envInt({ min: 1, max: 100 }).default(8),
    ARGMAX_FEEDBACK_SCHEMA: envString().default('feedback'),
    ...streamNameVariables,
    /** NATS key-value bucket of `Idempotency-Key`s of label requests. */
    ARGMAX_FEEDBACK_IDEMPOTENCY_BUCKET: token('a bucket name').default('FEEDBACK_IDEMPOTENCY'),
  })
  .transform((env) => ({
    predictionIdSecret: env.ARGMAX_PREDICTION_ID_SECRET,
    webhookSecret: env.ARGMAX_FEEDBACK_WEBHOOK_SECRET,
    retentionDays: env.ARGMAX_FEEDBACK_RETENTION_DAYS,
    retentionIntervalMs: env.ARGMAX_FEEDBACK_RETENTION_INTERVAL_SECONDS * 1000,
    maxLabels: env.ARGMAX_FEEDBACK_MAX_LABELS,
    idempotencyTtlMs: env.ARGMAX_FEEDBACK_IDEMPOTENCY_HOURS * 3600 * 1000,
    bucket: env.ARGMAX_ANALYTICS_BUCKET,
    ...sinksOf(env),
    evaluationIntervalMs: env.ARGMAX_FEEDBACK_EVALUATION_INTERVAL_SECONDS * 1000,
    queryTimeoutMs: env.ARGMAX_FEEDBACK_QUERY_TIMEOUT_SECONDS * 1000,
    gaugeWindow: env.ARGMAX_FEEDBACK_GAUGE_WINDOW,
    webhook: {
      timeoutMs: env.ARGMAX_FEEDBACK_WEBHOOK_TIMEOUT_MS,
      maxDeliver: env.ARGMAX_FEEDBACK_WEBHOOK_MAX_DELIVER,
    },
    schema: env.ARGMAX_FEEDBACK_SCHEMA,
    idempotencyBucket: env.ARGMAX_FEEDBACK_IDEMPOTENCY_BUCKET,
    names: streamNamesOf(env),
  }))
export type FeedbackSettings = z.output<typeof feedbackSettings>

export const feedbackConfigSchema = envConfig({
  nats: natsSettings,
  postgres: postgresSettings,
  s3: s3Settings,
  clickhouse: clickhouseSettings,
  analytics: analyticsDatabaseSettings,
  auth: authSettings,
  http: httpSettings,
  feedback: feedbackSettings,
})

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadFeedbackConfig(env: Env = process.env) {
  return loadConfig(feedbackConfigSchema, env)
}

export type FeedbackConfig = ReturnType<typeof loadFeedbackConfig>

/**
 * The sinks as their own process (`sink-main.ts`): FEEDBACK_LOG → ClickHouse and every context
 * stream → `domain_events`. Only NATS and ClickHouse, and the stream names.
 */
export const sinkSettings = z
  .object({
    ...sinkVariables,
    ...streamNameVariables,
  })
  .transform((env) => ({
    ...sinksOf(env),
    names: streamNamesOf(env),
  }))

export const sinkConfigSchema = envConfig({
  nats: natsSettings,
  clickhouse: clickhouseSettings,
  analytics: analyticsDatabaseSettings,
  sinks: sinkSettings,
})

export function loadSinkConfig(env: Env = process.env) {
  return loadConfig(sinkConfigSchema, env)
}

export type SinkConfig = ReturnType<typeof loadSinkConfig>
