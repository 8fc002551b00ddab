import { z } from 'zod'
import {
  authSettings,
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
import { DEFAULT_RETENTION_DAYS } from './domain/limits.ts'
import { DATASET_STREAM_NAMES } from './streams.ts'

const DAY_SECONDS = 24 * 3600

/** Settings only the dataset service reads. */
export const datasetSettings = z
  .object({
    ARGMAX_DATASET_BUCKET: envString().default('argmax-datasets'),
    ARGMAX_DATASET_RETENTION_DAYS: envInt({ min: 0, max: 36_500 }).default(DEFAULT_RETENTION_DAYS),
    ARGMAX_DATASET_PURGE_INTERVAL_SECONDS: envInt({ min: 0, max: 7 * DAY_SECONDS }).default(3600),
    ARGMAX_DATASET_STALE_UPLOAD_HOURS: envInt({ min: 1, max: 24 * 365 }).default(7 * 24),
    /** Part and download URLs: short-lived (15 min); clients ask for part URLs as they go. */
    ARGMAX_DATASET_PRESIGN_EXPIRY_SECONDS: envInt({ min: 60, max: 7 * DAY_SECONDS }).default(900),
    /** `embedded`: the API process also runs a validator; `off`: run validator-main.ts apart. */
    ARGMAX_DATASET_VALIDATOR: z.enum(['embedded', 'off']).default('embedded'),
    ARGMAX_DATASET_VALIDATOR_ACK_WAIT_SECONDS: envInt({ min: 1, max: 3600 }).default(60),
    /** S3 read timeout: an open or read of the object waiting longer fails and is retried. */
    ARGMAX_DATASET_VALIDATOR_READ_TIMEOUT_SECONDS: envInt({ min: 1, max: 3600 }).default(30),
    /** Attempts at one upload before it is parked and its version REJECTED (internal_error). */
    ARGMAX_DATASET_VALIDATOR_MAX_DELIVER: envInt({ min: 1, max: 100 }).default(5),
    /**
     * Worker threads per file of more than one batch; default one per core the process sees
     * (set it to the CPU limit where a container sees more cores than it may use).
     */
    ARGMAX_DATASET_VALIDATOR_WORKERS: envInt({ min: 0, max: 256 }).optional(),
    ARGMAX_DATASET_SCHEMA: envString().default('dataset'),
    /** The stream and first subject token: tests run side by side, each on its own. */
    ARGMAX_DATASET_STREAM: envString()
      .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -')
      .default(DATASET_STREAM_NAMES.stream),
    ARGMAX_DATASET_SUBJECT_ROOT: envString()
      .regex(/^[A-Za-z0-9_-]+$/, 'must be one subject token: letters, digits, _ or -')
      .default(DATASET_STREAM_NAMES.root),
  })
  .transform((env) => ({
    bucket: env.ARGMAX_DATASET_BUCKET,
    retentionMs: env.ARGMAX_DATASET_RETENTION_DAYS * DAY_SECONDS * 1000,
    purgeIntervalMs: env.ARGMAX_DATASET_PURGE_INTERVAL_SECONDS * 1000,
    staleUploadMs: env.ARGMAX_DATASET_STALE_UPLOAD_HOURS * 3600 * 1000,
    presignExpirySeconds: env.ARGMAX_DATASET_PRESIGN_EXPIRY_SECONDS,
    validator: env.ARGMAX_DATASET_VALIDATOR,
    validatorAckWaitMs: env.ARGMAX_DATASET_VALIDATOR_ACK_WAIT_SECONDS * 1000,
    validatorReadTimeoutMs: env.ARGMAX_DATASET_VALIDATOR_READ_TIMEOUT_SECONDS * 1000,
    validatorMaxDeliver: env.ARGMAX_DATASET_VALIDATOR_MAX_DELIVER,
    validatorWorkers: env.ARGMAX_DATASET_VALIDATOR_WORKERS,
    schema: env.ARGMAX_DATASET_SCHEMA,
    names: { stream: env.ARGMAX_DATASET_STREAM, root: env.ARGMAX_DATASET_SUBJECT_ROOT },
  }))
export type DatasetSettings = z.output<typeof datasetSettings>

export const datasetConfigSchema = envConfig({
  nats: natsSettings,
  postgres: postgresSettings,
  s3: s3Settings,
  auth: authSettings,
  http: httpSettings,
  dataset: datasetSettings,
})

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadDatasetConfig(env: Env = process.env) {
  return loadConfig(datasetConfigSchema, env)
}

export type DatasetConfig = ReturnType<typeof loadDatasetConfig>

/** The validator process needs no HTTP or auth settings. */
export const validatorConfigSchema = envConfig({
  nats: natsSettings,
  s3: s3Settings,
  dataset: datasetSettings,
})

export function loadValidatorConfig(env: Env = process.env) {
  return loadConfig(validatorConfigSchema, env)
}

export type ValidatorConfig = ReturnType<typeof loadValidatorConfig>
