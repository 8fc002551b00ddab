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
import {
  DEFAULT_MAX_MODEL_BYTES,
  DEFAULT_RETENTION_DAYS,
  MODEL_NAME_PATTERN,
} from './domain/index.ts'
import { REGISTRY_STREAM_NAMES, TRAINING_STREAM_NAMES } from './streams.ts'

const DAY_SECONDS = 24 * 3600
const token = (fallback: string) =>
  envString()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be one subject token: letters, digits, _ or -')
    .default(fallback)

export interface BootstrapRelease {
  model: string
  version: number
}

/**
 * `movies=1,cars=3`: the first release of each model that has never had one (seed 000's
 * environment fallback). An empty value names none.
 */
export const bootstrapReleases = z
  .string()
  .default('')
  .transform((value, ctx): BootstrapRelease[] => {
    const entries: BootstrapRelease[] = []
    for (const part of value
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const match = /^([^=\s]+)=([1-9][0-9]{0,9})$/.exec(part)
      if (!match || !MODEL_NAME_PATTERN.test(match[1]!)) {
        ctx.addIssue({
          code: 'custom',
          message: `'${part}' must be <model>=<version>, e.g. movies=1 (model names: lower-case letters, digits, -)`,
        })
        continue
      }
      if (entries.some((e) => e.model === match[1])) {
        ctx.addIssue({ code: 'custom', message: `model ${match[1]} is named twice` })
        continue
      }
      entries.push({ model: match[1]!, version: Number(match[2]) })
    }
    return entries
  })

/** Settings only the registry reads. */
export const registrySettings = z
  .object({
    /** Models bucket: training's artifacts (`runs/…`) and the registry's uploads (`models/…`). */
    ARGMAX_REGISTRY_BUCKET: envString().default('argmax-models'),
    ARGMAX_REGISTRY_RETENTION_DAYS: envInt({ min: 0, max: 36_500 }).default(DEFAULT_RETENTION_DAYS),
    ARGMAX_REGISTRY_PURGE_INTERVAL_SECONDS: envInt({ min: 0, max: 7 * DAY_SECONDS }).default(3600),
    ARGMAX_REGISTRY_STALE_UPLOAD_HOURS: envInt({ min: 1, max: 24 * 365 }).default(24),
    ARGMAX_REGISTRY_PRESIGN_EXPIRY_SECONDS: envInt({ min: 60, max: 7 * DAY_SECONDS }).default(3600),
    ARGMAX_REGISTRY_MAX_MODEL_BYTES: envInt({ min: 1024, max: 5 * 1024 ** 3 }).default(
      DEFAULT_MAX_MODEL_BYTES,
    ),
    /** Uploaded files checked in ONNX Runtime at once (each is read whole into memory). */
    ARGMAX_REGISTRY_VERIFY_CONCURRENCY: envInt({ min: 1, max: 64 }).default(2),
    ARGMAX_REGISTRY_BOOTSTRAP_RELEASES: bootstrapReleases,
    /** How often a bootstrap entry whose version is not registered yet is tried again. */
    ARGMAX_REGISTRY_BOOTSTRAP_RETRY_SECONDS: envInt({ min: 1, max: DAY_SECONDS }).default(30),
    ARGMAX_REGISTRY_TRAINING_ACK_WAIT_SECONDS: envInt({ min: 1, max: 3600 }).default(60),
    ARGMAX_REGISTRY_TRAINING_MAX_DELIVER: envInt({ min: 1, max: 1000 }).default(10),
    ARGMAX_REGISTRY_SCHEMA: envString().default('registry'),
    /** Stream names and subject roots: tests run side by side, each on its own. */
    ARGMAX_REGISTRY_STREAM: token(REGISTRY_STREAM_NAMES.stream),
    ARGMAX_REGISTRY_SUBJECT_ROOT: token(REGISTRY_STREAM_NAMES.root),
    ARGMAX_REGISTRY_TRAINING_STREAM: token(TRAINING_STREAM_NAMES.stream),
    ARGMAX_REGISTRY_TRAINING_SUBJECT_ROOT: token(TRAINING_STREAM_NAMES.root),
  })
  .transform((env) => ({
    bucket: env.ARGMAX_REGISTRY_BUCKET,
    retentionMs: env.ARGMAX_REGISTRY_RETENTION_DAYS * DAY_SECONDS * 1000,
    purgeIntervalMs: env.ARGMAX_REGISTRY_PURGE_INTERVAL_SECONDS * 1000,
    staleUploadMs: env.ARGMAX_REGISTRY_STALE_UPLOAD_HOURS * 3600 * 1000,
    presignExpirySeconds: env.ARGMAX_REGISTRY_PRESIGN_EXPIRY_SECONDS,
    maxModelBytes: env.ARGMAX_REGISTRY_MAX_MODEL_BYTES,
    verifyConcurrency: env.ARGMAX_REGISTRY_VERIFY_CONCURRENCY,
    bootstrapReleases: env.ARGMAX_REGISTRY_BOOTSTRAP_RELEASES,
    bootstrapRetryMs: env.ARGMAX_REGISTRY_BOOTSTRAP_RETRY_SECONDS * 1000,
    trainingAckWaitMs: env.ARGMAX_REGISTRY_TRAINING_ACK_WAIT_SECONDS * 1000,
    trainingMaxDeliver: env.ARGMAX_REGISTRY_TRAINING_MAX_DELIVER,
    schema: env.ARGMAX_REGISTRY_SCHEMA,
    names: { stream: env.ARGMAX_REGISTRY_STREAM, root: env.ARGMAX_REGISTRY_SUBJECT_ROOT },
    training: {
      stream: env.ARGMAX_REGISTRY_TRAINING_STREAM,
      root: env.ARGMAX_REGISTRY_TRAINING_SUBJECT_ROOT,
    },
  }))
export type RegistrySettings = z.output<typeof registrySettings>

export const registryConfigSchema = envConfig({
  nats: natsSettings,
  postgres: postgresSettings,
  s3: s3Settings,
  auth: authSettings,
  http: httpSettings,
  registry: registrySettings,
})

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadRegistryConfig(env: Env = process.env) {
  return loadConfig(registryConfigSchema, env)
}

export type RegistryConfig = ReturnType<typeof loadRegistryConfig>
