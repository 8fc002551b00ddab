import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import {
  authSettings,
  envConfig,
  envInt,
  envString,
  envUrl,
  httpSettings,
  loadConfig,
  natsSettings,
  postgresSettings,
  serviceClientSettings,
  s3Settings,
  type Env,
} from '@argmax/config'
import type { QuotaLimits } from './domain/index.ts'
import { DATASET_STREAM_NAMES, TRAINING_STREAM_NAMES } from './streams.ts'

const HOUR = 3600
const DAY = 24 * HOUR
const MiB = 1024 * 1024

/** The built-in trainers' entry point, run with Debian's interpreter (see trainers/README.md). */
export const BUILTIN_TRAIN_PY = fileURLToPath(new URL('../trainers/train.py', import.meta.url))
export const DEBIAN_PYTHON = '/usr/bin/python3'

const token = envString().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -')

const commandList = envString().transform((value, ctx) => {
  try {
    const parsed = JSON.parse(value) as unknown
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((p) => typeof p === 'string')) {
      return parsed as string[]
    }
  } catch {
    // reported below
  }
  ctx.addIssue({
    code: 'custom',
    message: 'must be a JSON array of strings, e.g. ["/usr/bin/python3","train.py"]',
  })
  return z.NEVER
})

/** Settings only the training service reads. */
export const trainingSettings = z
  .object({
    ARGMAX_TRAINING_BUCKET: envString().default('argmax-models'),
    ARGMAX_TRAINING_SCHEMA: envString().default('training'),
    ARGMAX_TRAINING_STREAM: token.default(TRAINING_STREAM_NAMES.stream),
    ARGMAX_TRAINING_SUBJECT_ROOT: token.default(TRAINING_STREAM_NAMES.root),
    ARGMAX_TRAINING_DATASET_STREAM: token.default(DATASET_STREAM_NAMES.stream),
    ARGMAX_TRAINING_DATASET_SUBJECT_ROOT: token.default(DATASET_STREAM_NAMES.root),
    /** Signs the run-scoped tokens trainers call the API with; never the platform's secret. */
    ARGMAX_TRAINING_RUN_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters'),
    /** The API's base URL as a job reaches it; default: this process's own listening address. */
    ARGMAX_TRAINING_API_URL: envUrl(['http', 'https']).optional(),
    ARGMAX_TRAINING_RUNNER: z.enum(['local', 'kubernetes']).default('local'),
    ARGMAX_TRAINING_LOCAL_SLOTS: envInt({ min: 1, max: 1024 }).default(2),
    /** GPUs of the local pool; default: as many as `nvidia-smi` lists (0 without it). */
    ARGMAX_TRAINING_LOCAL_GPUS: envInt({ min: 0, max: 64 }).optional(),
    /** Where the local runner keeps each job's log, exit code and scratch space. */
    ARGMAX_TRAINING_WORK_DIR: envString().optional(),
    /** The built-in trainers' command, before `--trainer <name>` (tests point it elsewhere). */
    ARGMAX_TRAINING_BUILTIN_COMMAND: commandList.optional(),
    ARGMAX_TRAINING_HEARTBEAT_WINDOW_SECONDS: envInt({ min: 1, max: 7 * DAY }).default(HOUR),
    ARGMAX_TRAINING_MAX_ATTEMPTS: envInt({ min: 1, max: 100 }).default(3),
    ARGMAX_TRAINING_RETRY_BACKOFF_SECONDS: envInt({ min: 0, max: DAY }).default(60),
    ARGMAX_TRAINING_RETRY_BACKOFF_MAX_SECONDS: envInt({ min: 0, max: 7 * DAY }).default(HOUR),
    /** A waiting run rises one priority level per this many minutes (0: no aging). */
    ARGMAX_TRAINING_AGING_MINUTES: envInt({ min: 0, max: 7 * 24 * 60 }).default(30),
    ARGMAX_TRAINING_DEFAULT_TIMEOUT_HOURS: envInt({ min: 1, max: 24 * 30 }).default(36),
    ARGMAX_TRAINING_LONG_TIMEOUT_HOURS: envInt({ min: 1, max: 24 * 30 }).default(72),
    /** Comma-separated user ids allowed timeouts above the default, up to the long one. */
    ARGMAX_TRAINING_LONG_RUN_USERS: z.string().default(''),
    ARGMAX_TRAINING_QUOTA_CONCURRENT: envInt({ min: 0, max: 100_000 }).default(3),
    ARGMAX_TRAINING_QUOTA_HOURLY: envInt({ min: 0, max: 100_000 }).default(5),
    ARGMAX_TRAINING_QUOTA_DAILY: envInt({ min: 0, max: 100_000 }).default(10),
    ARGMAX_TRAINING_QUOTA_DAILY_INTERNAL: envInt({ min: 0, max: 100_000 }).default(50),
    ARGMAX_TRAINING_MAX_ARTIFACT_MB: envInt({ min: 1, max: 5 * 1024 }).default(2048),
    ARGMAX_TRAINING_MAX_CHECKPOINT_MB: envInt({ min: 1, max: 5 * 1024 }).default(2048),
    /** Test records a built-in trainer keeps in `holdout.jsonl` (retrain pipelines score on it). */
    ARGMAX_TRAINING_HOLDOUT_MAX_ROWS: envInt({ min: 0, max: 10_000_000 }).default(100_000),
    ARGMAX_TRAINING_SCHEDULER_INTERVAL_MS: envInt({ min: 10, max: 60_000 }).default(1000),
    ARGMAX_TRAINING_LEASE_SECONDS: envInt({ min: 1, max: HOUR }).default(15),
    ARGMAX_TRAINING_ARCHIVE_AFTER_DAYS: envInt({ min: 1, max: 36_500 }).default(180),
    ARGMAX_TRAINING_ARCHIVE_INTERVAL_SECONDS: envInt({ min: 0, max: 7 * DAY }).default(HOUR),
    ARGMAX_TRAINING_HEARTBEAT_RETENTION_DAYS: envInt({ min: 1, max: 3650 }).default(30),
    /** An admission whose run was never written (a crash in between) is released after this. */
    ARGMAX_TRAINING_ORPHAN_GRACE_SECONDS: envInt({ min: 1, max: DAY }).default(120),
    /**
     * The registry's API (the edge or the registry itself): retrain pipelines register their
     * candidate as `challenger` and start its rollout there. Without it pipelines stop at
     * the registration step (and say so).
     */
    ARGMAX_TRAINING_REGISTRY_URL: envUrl(['http', 'https']).optional(),
    ARGMAX_TRAINING_REGISTRY_STREAM: token.default('REGISTRY'),
    ARGMAX_TRAINING_REGISTRY_SUBJECT_ROOT: token.default('registry'),
    /**
     * The feedback service's API (the edge or the service itself): pipelines with
     * `data.source: fresh_feedback` ask it for a feedback dataset there.
     */
    ARGMAX_TRAINING_FEEDBACK_URL: envUrl(['http', 'https']).optional(),
    ARGMAX_TRAINING_FEEDBACK_STREAM: token.default('FEEDBACK'),
    ARGMAX_TRAINING_FEEDBACK_SUBJECT_ROOT: token.default('feedback'),
    /**
     * The inference gateway's API (the edge or the gateway itself): a pipeline's warm step
     * waits there until its candidate is loaded. Without it the step is skipped (and says so).
     */
    ARGMAX_TRAINING_INFERENCE_URL: envUrl(['http', 'https']).optional(),
    /**
     * How long a pipeline step waits for another service to catch up before it fails the run:
     * feedback to know the serving release (`data_unavailable`), the gateway to load the
     * candidate after its registration (`warmup_failed`).
     */
    ARGMAX_TRAINING_PIPELINE_WAIT_SECONDS: envInt({ min: 1, max: DAY }).default(600),
    /** Every active pipeline run is looked at this often (waiting steps; schedules). */
    ARGMAX_TRAINING_PIPELINE_SWEEP_SECONDS: envInt({ min: 0, max: DAY }).default(30),
  })
  .transform((env) => ({
    bucket: env.ARGMAX_TRAINING_BUCKET,
    schema: env.ARGMAX_TRAINING_SCHEMA,
    names: { stream: env.ARGMAX_TRAINING_STREAM, root: env.ARGMAX_TRAINING_SUBJECT_ROOT },
    datasetNames: {
      stream: env.ARGMAX_TRAINING_DATASET_STREAM,
      root: env.ARGMAX_TRAINING_DATASET_SUBJECT_ROOT,
    },
    runTokenSecret: env.ARGMAX_TRAINING_RUN_TOKEN_SECRET,
    apiUrl: env.ARGMAX_TRAINING_API_URL,
    runner: env.ARGMAX_TRAINING_RUNNER,
    local: {
      slots: env.ARGMAX_TRAINING_LOCAL_SLOTS,
      gpus: env.ARGMAX_TRAINING_LOCAL_GPUS,
      workDir: env.ARGMAX_TRAINING_WORK_DIR,
      builtinCommand: env.ARGMAX_TRAINING_BUILTIN_COMMAND ?? [DEBIAN_PYTHON, BUILTIN_TRAIN_PY],
    },
    heartbeatWindowMs: env.ARGMAX_TRAINING_HEARTBEAT_WINDOW_SECONDS * 1000,
    retry: {
      maxAttempts: env.ARGMAX_TRAINING_MAX_ATTEMPTS,
      baseDelayMs: env.ARGMAX_TRAINING_RETRY_BACKOFF_SECONDS * 1000,
      maxDelayMs: env.ARGMAX_TRAINING_RETRY_BACKOFF_MAX_SECONDS * 1000,
    },
    agingMs: env.ARGMAX_TRAINING_AGING_MINUTES * 60_000,
    timeouts: {
      defaultSeconds: env.ARGMAX_TRAINING_DEFAULT_TIMEOUT_HOURS * HOUR,
      longSeconds: env.ARGMAX_TRAINING_LONG_TIMEOUT_HOURS * HOUR,
      longRunUsers: env.ARGMAX_TRAINING_LONG_RUN_USERS.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    },
    quotas: {
      user: {
        concurrent: env.ARGMAX_TRAINING_QUOTA_CONCURRENT,
        hourly: env.ARGMAX_TRAINING_QUOTA_HOURLY,
        daily: env.ARGMAX_TRAINING_QUOTA_DAILY,
      } satisfies QuotaLimits,
      internal: {
        concurrent: env.ARGMAX_TRAINING_QUOTA_CONCURRENT,
        hourly: env.ARGMAX_TRAINING_QUOTA_HOURLY,
        daily: env.ARGMAX_TRAINING_QUOTA_DAILY_INTERNAL,
      } satisfies QuotaLimits,
    },
    maxArtifactBytes: env.ARGMAX_TRAINING_MAX_ARTIFACT_MB * MiB,
    maxCheckpointBytes: env.ARGMAX_TRAINING_MAX_CHECKPOINT_MB * MiB,
    holdoutMaxRows: env.ARGMAX_TRAINING_HOLDOUT_MAX_ROWS,
    schedulerIntervalMs: env.ARGMAX_TRAINING_SCHEDULER_INTERVAL_MS,
    leaseMs: env.ARGMAX_TRAINING_LEASE_SECONDS * 1000,
    archiveAfterMs: env.ARGMAX_TRAINING_ARCHIVE_AFTER_DAYS * DAY * 1000,
    archiveIntervalMs: env.ARGMAX_TRAINING_ARCHIVE_INTERVAL_SECONDS * 1000,
    heartbeatRetentionDays: env.ARGMAX_TRAINING_HEARTBEAT_RETENTION_DAYS,
    orphanGraceMs: env.ARGMAX_TRAINING_ORPHAN_GRACE_SECONDS * 1000,
    pipelines: {
      registryUrl: env.ARGMAX_TRAINING_REGISTRY_URL,
      feedbackUrl: env.ARGMAX_TRAINING_FEEDBACK_URL,
      inferenceUrl: env.ARGMAX_TRAINING_INFERENCE_URL,
      waitTimeoutMs: env.ARGMAX_TRAINING_PIPELINE_WAIT_SECONDS * 1000,
      registryNames: {
        stream: env.ARGMAX_TRAINING_REGISTRY_STREAM,
        root: env.ARGMAX_TRAINING_REGISTRY_SUBJECT_ROOT,
      },
      feedbackNames: {
        stream: env.ARGMAX_TRAINING_FEEDBACK_STREAM,
        root: env.ARGMAX_TRAINING_FEEDBACK_SUBJECT_ROOT,
      },
      sweepMs: env.ARGMAX_TRAINING_PIPELINE_SWEEP_SECONDS * 1000,
    },
  }))
export type TrainingSettings = z.output<typeof trainingSettings>

export const trainingConfigSchema = envConfig({
  nats: natsSettings,
  postgres: postgresSettings,
  s3: s3Settings,
  auth: authSettings,
  serviceClient: serviceClientSettings,
  http: httpSettings,
  training: trainingSettings,
})

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadTrainingConfig(env: Env = process.env) {
  return loadConfig(trainingConfigSchema, env)
}

export type TrainingConfig = ReturnType<typeof loadTrainingConfig>
