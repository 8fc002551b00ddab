import { z } from 'zod'
import {
  authSettings,
  envConfig,
  envInt,
  envString,
  httpSettings,
  loadConfig,
  s3Settings,
  type Env,
} from '@argmax/config'
import {
  MAX_BATCH_SIZE_LIMIT,
  MAX_INSTANCE_COUNT,
  MAX_QUEUE_DELAY_LIMIT_MICROSECONDS,
} from './repository/load-config.ts'

const MIB = 1024 * 1024

/** Settings only the model server reads (its REST shell uses ARGMAX_HTTP_*, auth and S3 too). */
export const modelServerSettings = z
  .object({
    ARGMAX_MODEL_SERVER_GRPC_HOST: envString().default('127.0.0.1'),
    ARGMAX_MODEL_SERVER_GRPC_PORT: envInt({ min: 0, max: 65_535 }),
    /** Reported by ServerMetadata; name each replica if you like. */
    ARGMAX_MODEL_SERVER_NAME: envString().default('argmax-model-server'),
    ARGMAX_MODEL_SERVER_EXECUTION_PROVIDER: z
      .enum(['cpu', 'cuda'], { error: 'must be cpu or cuda' })
      .default('cpu'),
    ARGMAX_MODEL_SERVER_CUDA_DEVICE_ID: envInt({ min: 0, max: 64 }).default(0),
    ARGMAX_MODEL_SERVER_INTRA_OP_THREADS: envInt({ min: 1, max: 256 }).default(1),
    ARGMAX_MODEL_SERVER_CACHE_DIR: envString().default('.argmax/model-cache'),
    ARGMAX_MODEL_SERVER_CACHE_MAX_MB: envInt({ min: 1, max: 16 * 1024 * 1024 }).default(10_240),
    ARGMAX_MODEL_SERVER_MAX_ARTIFACT_MB: envInt({ min: 1, max: 16 * 1024 }).default(2048),
    ARGMAX_MODEL_SERVER_MAX_MESSAGE_MB: envInt({ min: 1, max: 2047 }).default(16),
    ARGMAX_MODEL_SERVER_MAX_BATCH_SIZE: envInt({ min: 0, max: MAX_BATCH_SIZE_LIMIT }).default(64),
    ARGMAX_MODEL_SERVER_MAX_QUEUE_DELAY_MICROSECONDS: envInt({
      min: 0,
      max: MAX_QUEUE_DELAY_LIMIT_MICROSECONDS,
    }).default(0),
    ARGMAX_MODEL_SERVER_INSTANCE_COUNT: envInt({ min: 1, max: MAX_INSTANCE_COUNT }).default(1),
    ARGMAX_MODEL_SERVER_DOWNLOAD_ATTEMPTS: envInt({ min: 1, max: 20 }).default(5),
    ARGMAX_MODEL_SERVER_FAILED_LOAD_BACKOFF_SECONDS: envInt({ min: 0, max: 3600 }).default(1),
    ARGMAX_MODEL_SERVER_FAILED_LOAD_BACKOFF_MAX_SECONDS: envInt({ min: 0, max: 86_400 }).default(
      300,
    ),
  })
  .transform((env) => ({
    grpc: { host: env.ARGMAX_MODEL_SERVER_GRPC_HOST, port: env.ARGMAX_MODEL_SERVER_GRPC_PORT },
    name: env.ARGMAX_MODEL_SERVER_NAME,
    session: {
      executionProvider: env.ARGMAX_MODEL_SERVER_EXECUTION_PROVIDER,
      cudaDeviceId: env.ARGMAX_MODEL_SERVER_CUDA_DEVICE_ID,
      intraOpThreads: env.ARGMAX_MODEL_SERVER_INTRA_OP_THREADS,
    },
    cache: {
      directory: env.ARGMAX_MODEL_SERVER_CACHE_DIR,
      maxCacheBytes: env.ARGMAX_MODEL_SERVER_CACHE_MAX_MB * MIB,
      maxArtifactBytes: env.ARGMAX_MODEL_SERVER_MAX_ARTIFACT_MB * MIB,
    },
    maxMessageBytes: env.ARGMAX_MODEL_SERVER_MAX_MESSAGE_MB * MIB,
    batching: {
      maxBatchSize: env.ARGMAX_MODEL_SERVER_MAX_BATCH_SIZE,
      maxQueueDelayMicroseconds: env.ARGMAX_MODEL_SERVER_MAX_QUEUE_DELAY_MICROSECONDS,
      instanceCount: env.ARGMAX_MODEL_SERVER_INSTANCE_COUNT,
    },
    download: {
      attempts: env.ARGMAX_MODEL_SERVER_DOWNLOAD_ATTEMPTS,
      initialDelayMs: 200,
      maxDelayMs: 5_000,
    },
    failedLoadBackoff: {
      initialMs: env.ARGMAX_MODEL_SERVER_FAILED_LOAD_BACKOFF_SECONDS * 1000,
      maxMs: env.ARGMAX_MODEL_SERVER_FAILED_LOAD_BACKOFF_MAX_SECONDS * 1000,
    },
  }))
export type ModelServerSettings = z.output<typeof modelServerSettings>

export const modelServerConfigSchema = envConfig({
  s3: s3Settings,
  auth: authSettings,
  http: httpSettings,
  modelServer: modelServerSettings,
})

export type ModelServerConfig = ReturnType<typeof loadModelServerConfig>

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadModelServerConfig(env: Env = process.env) {
  return loadConfig(modelServerConfigSchema, env)
}
