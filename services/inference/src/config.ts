import { z } from 'zod'
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
  serviceClientSettings,
  s3Settings,
  type Env,
} from '@argmax/config'
import { analyticsDatabaseSettings } from '@argmax/analytics'
import { INFERENCE_STREAM_NAMES } from './streams.ts'

const MIB = 1024 * 1024
const token = (what: string) =>
  envString().regex(/^[A-Za-z0-9_-]+$/, `must be ${what}: letters, digits, _ or -`)
const subjectPrefix = envString().regex(
  /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
  'must be subject tokens joined by dots',
)

/**
 * `host:port,host:port`: the model servers' gRPC addresses; `dns:<name>:<port>` stands for every
 * address the name resolves to (a headless Service), looked up again every probe interval.
 */
const endpointList = z
  .string()
  .default('')
  .transform((value, context) => {
    const endpoints = value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
    for (const endpoint of endpoints) {
      if (!/^(dns:[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(endpoint)) {
        context.addIssue({
          code: 'custom',
          message: `${JSON.stringify(endpoint)} is not host:port or dns:name:port`,
        })
      }
    }
    if (new Set(endpoints).size !== endpoints.length) {
      context.addIssue({ code: 'custom', message: 'names an endpoint twice' })
    }
    return endpoints
  })

/** What the ClickHouse sink reads, in the gateway's process or its own (`sink-main.ts`). */
const sinkFields = {
  ARGMAX_INFERENCE_SINK: z
    .enum(['embedded', 'off'], { error: 'must be embedded or off' })
    .default('embedded'),
  ARGMAX_INFERENCE_SINK_MAX_BATCH: envInt({ min: 1, max: 10_000 }).default(5_000),
  ARGMAX_INFERENCE_SINK_MAX_WAIT_MS: envInt({ min: 0, max: 60_000 }).default(200),
  /** How long one batch waits for ClickHouse to come back before it counts as a failure. */
  ARGMAX_INFERENCE_SINK_OUTAGE_WAIT_SECONDS: envInt({ min: 1, max: 86_400 }).default(600),
  /**
   * How long a batch handed to a sink that died goes unacknowledged before JetStream delivers it
   * again. Longer than the outage backoff's 5 s step, or a batch waiting for ClickHouse loses
   * its claim.
   */
  ARGMAX_INFERENCE_SINK_ACK_WAIT_SECONDS: envInt({ min: 10, max: 3_600 }).default(60),
  ARGMAX_INFERENCE_RETENTION_DAYS: envInt({ min: 1, max: 36_500 }).default(30),
  /** 0 turns the retention schedule off. */
  ARGMAX_INFERENCE_RETENTION_INTERVAL_SECONDS: envInt({ min: 0, max: 7 * 86_400 }).default(3_600),
  /** Archived prediction days and batch prediction results. */
  ARGMAX_ANALYTICS_BUCKET: envString().default('argmax-analytics'),
  ARGMAX_INFERENCE_LOG_STREAM: token('a stream name').default(INFERENCE_STREAM_NAMES.log.stream),
  ARGMAX_INFERENCE_LOG_SUBJECT_PREFIX: subjectPrefix.default(
    INFERENCE_STREAM_NAMES.log.subjectPrefix,
  ),
  ARGMAX_INFERENCE_STREAM: token('a stream name').default(INFERENCE_STREAM_NAMES.batch.stream),
  ARGMAX_INFERENCE_SUBJECT_PREFIX: subjectPrefix.default(
    INFERENCE_STREAM_NAMES.batch.subjectPrefix,
  ),
  ARGMAX_REGISTRY_STREAM: token('a stream name').default(INFERENCE_STREAM_NAMES.registry.stream),
  ARGMAX_REGISTRY_SUBJECT_ROOT: token('one subject token').default(
    INFERENCE_STREAM_NAMES.registry.root,
  ),
  ARGMAX_DATASET_STREAM: token('a stream name').default(INFERENCE_STREAM_NAMES.dataset.stream),
  ARGMAX_DATASET_SUBJECT_ROOT: token('one subject token').default(
    INFERENCE_STREAM_NAMES.dataset.root,
  ),
}

type SinkEnv = { [K in keyof typeof sinkFields]: z.output<(typeof sinkFields)[K]> }

function sinkPart(env: SinkEnv) {
  return {
    sink: {
      mode: env.ARGMAX_INFERENCE_SINK,
      maxBatch: env.ARGMAX_INFERENCE_SINK_MAX_BATCH,
      maxWaitMs: env.ARGMAX_INFERENCE_SINK_MAX_WAIT_MS,
      outageWaitMs: env.ARGMAX_INFERENCE_SINK_OUTAGE_WAIT_SECONDS * 1000,
      ackWaitMs: env.ARGMAX_INFERENCE_SINK_ACK_WAIT_SECONDS * 1000,
    },
    retention: {
      days: env.ARGMAX_INFERENCE_RETENTION_DAYS,
      intervalMs: env.ARGMAX_INFERENCE_RETENTION_INTERVAL_SECONDS * 1000,
    },
    bucket: env.ARGMAX_ANALYTICS_BUCKET,
    names: {
      log: {
        stream: env.ARGMAX_INFERENCE_LOG_STREAM,
        subjectPrefix: env.ARGMAX_INFERENCE_LOG_SUBJECT_PREFIX,
      },
      batch: {
        stream: env.ARGMAX_INFERENCE_STREAM,
        subjectPrefix: env.ARGMAX_INFERENCE_SUBJECT_PREFIX,
      },
      registry: { stream: env.ARGMAX_REGISTRY_STREAM, root: env.ARGMAX_REGISTRY_SUBJECT_ROOT },
      dataset: { stream: env.ARGMAX_DATASET_STREAM, root: env.ARGMAX_DATASET_SUBJECT_ROOT },
    },
  }
}

export const sinkSettings = z.object(sinkFields).transform(sinkPart)
export type SinkSettings = z.output<typeof sinkSettings>

/** Settings only the inference service (gateway, sink, batch runner) reads. */
export const inferenceSettings = z
  .object({
    ...sinkFields,
    ARGMAX_MODEL_SERVERS: endpointList,
    /** `managed`: the gateway loads versions; `external`: another keeps the repositories (Triton). */
    ARGMAX_INFERENCE_MODEL_LOADS: z
      .enum(['managed', 'external'], { error: 'must be managed or external' })
      .default('managed'),
    ARGMAX_INFERENCE_GRPC_HOST: envString().default('127.0.0.1'),
    ARGMAX_INFERENCE_GRPC_PORT: envInt({ min: 0, max: 65_535 }),
    /** HMAC key of prediction ids; feedback verifies them with the same secret. */
    ARGMAX_PREDICTION_ID_SECRET: z.string().min(32, 'must be at least 32 characters'),
    ARGMAX_INFERENCE_LOG_MODE: z
      .enum(['durable', 'async'], { error: 'must be durable or async' })
      .default('durable'),
    /** async mode: records held in memory at most while JetStream is slow or away. */
    ARGMAX_INFERENCE_LOG_BUFFER: envInt({ min: 1, max: 1_000_000 }).default(10_000),
    /** async mode: how long answered requests' records gather before they are published. */
    ARGMAX_INFERENCE_LOG_LINGER_MS: envInt({ min: 0, max: 10_000 }).default(10),
    ARGMAX_INFERENCE_MAX_MESSAGE_MB: envInt({ min: 1, max: 2047 }).default(16),
    /** Deadline of one call to a model server. */
    ARGMAX_INFERENCE_TIMEOUT_MS: envInt({ min: 10, max: 600_000 }).default(10_000),
    /** Model servers each version is placed on; 0 = every one. */
    ARGMAX_INFERENCE_PLACEMENT_REPLICAS: envInt({ min: 0, max: 1_000 }).default(0),
    ARGMAX_INFERENCE_PROBE_INTERVAL_MS: envInt({ min: 50, max: 60_000 }).default(1_000),
    /** Shadow copies in flight at once; more are skipped (and counted). */
    ARGMAX_INFERENCE_SHADOW_MAX_IN_FLIGHT: envInt({ min: 0, max: 10_000 }).default(64),
    /** Callers with a `user_id` label of their own in the prediction metrics; others are `other`. */
    ARGMAX_INFERENCE_METRICS_TOP_USERS: envInt({ min: 0, max: 1_000 }).default(20),
    /** A version loaded only because requests pinned it is unloaded after this long unused. */
    ARGMAX_INFERENCE_PINNED_IDLE_SECONDS: envInt({ min: 1, max: 86_400 }).default(600),
    /** Versions a new release no longer uses stay loaded this long for requests on their way. */
    ARGMAX_INFERENCE_DRAIN_SECONDS: envInt({ min: 0, max: 3_600 }).default(30),
    /**
     * Concurrent requests of one version merged into one model-server call, at most this many
     * rows (0: every request its own call), with at most `…_MERGE_IN_FLIGHT` calls per version
     * out at once: requests arriving while all are busy go together in the next.
     */
    ARGMAX_INFERENCE_MERGE_MAX_ROWS: envInt({ min: 0, max: 65_536 }).default(256),
    ARGMAX_INFERENCE_MERGE_IN_FLIGHT: envInt({ min: 1, max: 1_024 }).default(8),
    /** Rows per model-server call of a batch prediction. */
    ARGMAX_INFERENCE_BATCH_ROWS: envInt({ min: 1, max: 65_536 }).default(512),
    ARGMAX_INFERENCE_SCHEMA: envString().default('inference'),
  })
  .transform((env) => ({
    ...sinkPart(env),
    modelServers: env.ARGMAX_MODEL_SERVERS,
    modelLoads: env.ARGMAX_INFERENCE_MODEL_LOADS,
    grpc: { host: env.ARGMAX_INFERENCE_GRPC_HOST, port: env.ARGMAX_INFERENCE_GRPC_PORT },
    predictionIdSecret: env.ARGMAX_PREDICTION_ID_SECRET,
    log: {
      mode: env.ARGMAX_INFERENCE_LOG_MODE,
      bufferRecords: env.ARGMAX_INFERENCE_LOG_BUFFER,
      lingerMs: env.ARGMAX_INFERENCE_LOG_LINGER_MS,
    },
    maxMessageBytes: env.ARGMAX_INFERENCE_MAX_MESSAGE_MB * MIB,
    timeoutMs: env.ARGMAX_INFERENCE_TIMEOUT_MS,
    merge: {
      maxRows: env.ARGMAX_INFERENCE_MERGE_MAX_ROWS,
      inFlight: env.ARGMAX_INFERENCE_MERGE_IN_FLIGHT,
    },
    placementReplicas: env.ARGMAX_INFERENCE_PLACEMENT_REPLICAS,
    probeIntervalMs: env.ARGMAX_INFERENCE_PROBE_INTERVAL_MS,
    shadowMaxInFlight: env.ARGMAX_INFERENCE_SHADOW_MAX_IN_FLIGHT,
    metricsTopUsers: env.ARGMAX_INFERENCE_METRICS_TOP_USERS,
    pinnedIdleMs: env.ARGMAX_INFERENCE_PINNED_IDLE_SECONDS * 1000,
    drainMs: env.ARGMAX_INFERENCE_DRAIN_SECONDS * 1000,
    batchRows: env.ARGMAX_INFERENCE_BATCH_ROWS,
    schema: env.ARGMAX_INFERENCE_SCHEMA,
  }))
export type InferenceSettings = z.output<typeof inferenceSettings>

export const inferenceConfigSchema = envConfig({
  nats: natsSettings,
  postgres: postgresSettings,
  s3: s3Settings,
  clickhouse: clickhouseSettings,
  analytics: analyticsDatabaseSettings,
  auth: authSettings,
  serviceClient: serviceClientSettings,
  http: httpSettings,
  inference: inferenceSettings,
})

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadInferenceConfig(env: Env = process.env) {
  return loadConfig(inferenceConfigSchema, env)
}

export type InferenceConfig = ReturnType<typeof loadInferenceConfig>

/** The sink run as its own process (`sink-main.ts`): no HTTP, PostgreSQL or gateway. */
export const sinkConfigSchema = envConfig({
  nats: natsSettings,
  s3: s3Settings,
  clickhouse: clickhouseSettings,
  analytics: analyticsDatabaseSettings,
  sink: sinkSettings,
})

export function loadSinkConfig(env: Env = process.env) {
  return loadConfig(sinkConfigSchema, env)
}

export type SinkConfig = ReturnType<typeof loadSinkConfig>
