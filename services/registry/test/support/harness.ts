import { createHash } from 'node:crypto'
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { generateDevSecret, mintDevToken, type Role } from '@argmax/auth'
import {
  s3Uri,
  type ModelSignature,
  type StoredObject,
  type TrainingRunQueuedData,
  type TrainingRunSucceededData,
} from '@argmax/contracts'
import { createEventStore, ensureStreams, type EventStore } from '@argmax/events'
import { createLogger } from '@argmax/telemetry'
import {
  analyticsMigrations,
  createAnalyticsClient,
  migrateAnalytics,
  type AnalyticsClient,
} from '@argmax/analytics'
import {
  type ApiCall,
  connectNats,
  eventually,
  freshBucket,
  freshClickhouseDatabase,
  injectedApi,
  s3Client,
  stackEndpoints,
  uniqueName,
} from '@argmax/testkit'
import { LINEAR_SIGNATURE, writeTestModels } from '@argmax/testkit/onnx-models'
import type { NatsConnection } from 'nats'
import type { BootstrapRelease, RegistryConfig } from '../../src/config.ts'
import { startRegistryService, type RunningRegistryService } from '../../src/service.ts'
import type { StreamNames } from '../../src/streams.ts'

const DAY = 24 * 3600 * 1000

export interface Harness extends Setup {
  service: RunningRegistryService
  clock: { now: () => Date; advance(ms: number): void }
  tokens: Record<'alice' | 'bob' | 'admin' | 'analyst', string>
  call: ApiCall
  stop(): Promise<void>
}

export interface HarnessOptions {
  retentionDays?: number
  bootstrapReleases?: BootstrapRelease[]
  /** Listen on a free port (for clients that need a URL, like the CLI). */
  listen?: boolean
  /** Reuse these names (a restarted registry); fresh ones otherwise. */
  reuse?: Pick<Harness, 'names' | 'training' | 'bucket'> & {
    schema: string
    secret: string
    clickhouseDatabase?: string
  }
  /** A fresh ClickHouse database with the prediction log (for rollouts), as `analytics`. */
  analytics?: boolean
}

/** Settings a registry of these names reads, for the process started by main.ts. */
export function registryEnv(
  h: Pick<Harness, 'names' | 'training' | 'bucket' | 'config'>,
): Record<string, string> {
  const { natsUrl, postgresUrl, s3 } = stackEndpoints()
  return {
    ARGMAX_NATS_URL: natsUrl,
    ARGMAX_POSTGRES_URL: postgresUrl,
    ARGMAX_S3_ENDPOINT: s3.endpoint,
    ARGMAX_S3_REGION: s3.region,
    ARGMAX_S3_ACCESS_KEY_ID: s3.accessKeyId,
    ARGMAX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    ARGMAX_S3_FORCE_PATH_STYLE: 'true',
    ARGMAX_AUTH_MODE: 'hs256',
    ARGMAX_JWT_SECRET: (h.config.auth as { secret: string }).secret,
    ARGMAX_HTTP_HOST: '127.0.0.1',
    ARGMAX_HTTP_PORT: '0',
    ARGMAX_REGISTRY_BUCKET: h.bucket,
    ARGMAX_REGISTRY_SCHEMA: h.config.registry.schema,
    ARGMAX_REGISTRY_STREAM: h.names.stream,
    ARGMAX_REGISTRY_SUBJECT_ROOT: h.names.root,
    ARGMAX_REGISTRY_TRAINING_STREAM: h.training.stream,
    ARGMAX_REGISTRY_TRAINING_SUBJECT_ROOT: h.training.root,
    ARGMAX_CLICKHOUSE_URL: h.config.clickhouse.url,
    ARGMAX_CLICKHOUSE_USER: h.config.clickhouse.user,
    ARGMAX_CLICKHOUSE_PASSWORD: h.config.clickhouse.password,
    ARGMAX_CLICKHOUSE_DATABASE: h.config.analytics.database,
    ARGMAX_REGISTRY_ROLLOUT_TICK_SECONDS: String(h.config.registry.rolloutTickMs / 1000),
  }
}

export interface Setup {
  names: StreamNames
  training: StreamNames
  bucket: string
  s3: S3Client
  nc: NatsConnection
  store: EventStore
  config: RegistryConfig
  secret: string
  /** The prediction log's database (options.analytics), for tests that write traffic to it. */
  analytics?: AnalyticsClient
}

/**
 * What a registry under test runs on, made fresh: a REGISTRY-like stream name, a schema and a
 * bucket of its own, and a TRAINING-like stream (created here) that the test appends
 * training's events to, as the training service will.
 */
export async function freshSetup(options: Omit<HarnessOptions, 'listen'> = {}): Promise<Setup> {
  const endpoints = stackEndpoints()
  const nc = await connectNats()
  const { bucket, s3 } = options.reuse
    ? { bucket: options.reuse.bucket, s3: s3Client() }
    : await freshBucket('models')
  const names = options.reuse?.names ?? { stream: uniqueName('REGISTRY'), root: uniqueName('rg') }
  const training = options.reuse?.training ?? {
    stream: uniqueName('TRAINING'),
    root: uniqueName('tr'),
  }
  const jsm = await nc.jetstreamManager()
  await ensureStreams(jsm, [
    { name: training.stream, subjects: [`${training.root}.>`], retention: 'limits' },
  ])
  const secret = options.reuse?.secret ?? generateDevSecret()
  const clickhouse = {
    url: endpoints.clickhouseUrl,
    user: endpoints.clickhouseUser,
    password: endpoints.clickhousePassword,
  }
  let database = options.reuse?.clickhouseDatabase ?? endpoints.clickhouseDatabase
  let analytics: AnalyticsClient | undefined
  if (options.analytics) {
    if (!options.reuse?.clickhouseDatabase) {
      database = (await freshClickhouseDatabase('registry')).database
    }
    analytics = createAnalyticsClient(clickhouse, { database })
    await migrateAnalytics(analytics, analyticsMigrations)
  }
  const config: RegistryConfig = {
    nats: { url: endpoints.natsUrl, streamReplicas: 1 },
    postgres: { url: endpoints.postgresUrl },
    s3: { ...endpoints.s3, forcePathStyle: true },
    auth: { mode: 'hs256', secret },
    http: { host: '127.0.0.1', port: 0 },
    clickhouse,
    analytics: { database },
    registry: {
      bucket,
      retentionMs: (options.retentionDays ?? 90) * DAY,
      purgeIntervalMs: 0,
      staleUploadMs: DAY,
      presignExpirySeconds: 600,
      maxModelBytes: 64 * 1024 * 1024,
      verifyConcurrency: 2,
      bootstrapReleases: options.bootstrapReleases ?? [],
      bootstrapRetryMs: 200,
      trainingAckWaitMs: 10_000,
      trainingMaxDeliver: 5,
      // Tests drive the rollout worker themselves (runOnce) with the injected clock.
      rolloutTickMs: 0,
      schema: options.reuse?.schema ?? uniqueName('registry').toLowerCase(),
      names,
      training,
    },
  }
  return {
    names,
    training,
    bucket,
    s3,
    nc,
    store: createEventStore({ nc }),
    config,
    secret,
    ...(analytics ? { analytics } : {}),
  }
}

/** The registry in this process against the test kit's real servers (see freshSetup). */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const setup = await freshSetup(options)
  const { config, secret, nc } = setup
  let nowMs = Date.now()
  const clock = { now: () => new Date(nowMs), advance: (ms: number) => void (nowMs += ms) }
  const service = await startRegistryService({
    config,
    logger: createLogger({ service: 'registry-test', level: 'warn' }),
    nc,
    now: clock.now,
    listen: options.listen ?? false,
    trainingStreamPollMs: 100,
    trainingRetryDelaysMs: [200, 500],
  })
  const tokens = await devTokens(secret)
  return {
    ...setup,
    service,
    clock,
    tokens,
    call: injectedApi(service.app),
    async stop() {
      await service.stop()
      await setup.analytics?.close()
    },
  }
}

export async function devTokens(secret: string): Promise<Harness['tokens']> {
  const mint = (subject: string, roles: Role[]) =>
    mintDevToken({ secret, subject, roles, ttl: 3600 })
  return {
    alice: await mint('alice', ['user']),
    bob: await mint('bob', ['user']),
    admin: await mint('root', ['admin']),
    analyst: await mint('ann', ['analyst']),
  }
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export async function putBytes(
  h: Pick<Harness, 's3' | 'bucket'>,
  key: string,
  bytes: Uint8Array | string,
): Promise<StoredObject> {
  const body = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes)
  await h.s3.send(
    new PutObjectCommand({ Bucket: h.bucket, Key: key, Body: body, ContentLength: body.length }),
  )
  return { uri: s3Uri(h.bucket, key), sha256: sha256Hex(body), size: body.length }
}

let models: Promise<{ linear: Buffer; mixed: Buffer }> | undefined

/** The shared test ONNX models (`@argmax/testkit/onnx-models`), made once per file. */
export function testModels(): Promise<{ linear: Buffer; mixed: Buffer }> {
  models ??= writeTestModels([1]).then((written) => ({
    linear: written.linear.get(1)!.bytes,
    mixed: written.mixed.bytes,
  }))
  return models
}

/**
 * A run's artifacts as training stores them (`runs/<runId>/attempts/<n>/…` in the models
 * bucket), and its two events as the contract shapes them.
 */
export async function fakeRun(
  h: Pick<Harness, 's3' | 'bucket'>,
  options: {
    runId?: string
    model: string
    ownerId: string
    attempt?: number
    onnx?: Buffer
    signature?: ModelSignature
    metrics?: Record<string, number>
  },
): Promise<{ queued: TrainingRunQueuedData; succeeded: TrainingRunSucceededData }> {
  const runId = options.runId ?? uniqueName('run').replace(/_/g, '-')
  const attempt = options.attempt ?? 1
  const prefix = `runs/${runId}/attempts/${attempt}/`
  const onnx = options.onnx ?? (await testModels()).linear
  const signature = options.signature ?? LINEAR_SIGNATURE
  const metrics = options.metrics ?? { rmse: 0.9, mae: 0.6, r2: 0.45, baseline_rmse: 1.29 }
  const model = await putBytes(h, `${prefix}model.onnx`, onnx)
  const schema = await putBytes(h, `${prefix}schema.json`, JSON.stringify(signature))
  const metricsFile = await putBytes(h, `${prefix}metrics.json`, JSON.stringify({ test: metrics }))
  const dataset = { datasetId: 'ds-movies', versionId: 'dsv-1', sha256: sha256Hex('movies') }
  return {
    queued: {
      runId,
      model: options.model,
      ownerId: options.ownerId,
      task: signature.task,
      dataset: { datasetId: dataset.datasetId, versionId: dataset.versionId },
      queuedAt: new Date().toISOString(),
    },
    succeeded: {
      runId,
      attempt,
      model: options.model,
      ownerId: options.ownerId,
      task: signature.task,
      trainer: { name: 'xgboost', codeVersion: 'test' },
      target: 'y',
      features: signature.inputs.map((i) => i.name),
      params: { n_estimators: 200, max_depth: 6 },
      seed: 1,
      dataset,
      artifacts: { model, signature: schema, metrics: metricsFile },
      metrics,
      libraries: { xgboost: '1.7.4', onnx: '1.12.0' },
      succeededAt: new Date().toISOString(),
    },
  }
}

/** Appends training's events for a run, as the training service does. */
export async function publishRun(
  h: Pick<Harness, 'store' | 'training'>,
  run: { queued?: TrainingRunQueuedData; succeeded?: TrainingRunSucceededData },
): Promise<void> {
  const runId = run.queued?.runId ?? run.succeeded!.runId
  const subject = `${h.training.root}.run.${runId}`
  const events = [
    ...(run.queued ? [{ type: 'TrainingRunQueued', data: run.queued }] : []),
    ...(run.succeeded ? [{ type: 'TrainingRunSucceeded', data: run.succeeded }] : []),
  ]
  await h.store.append(subject, events, {
    expectedLastSubjectSequence: 'any',
    meta: { actor: 'system:training' },
  })
}

/**
 * Version `version` of `model` as `token` reads it (an admin's by default), once the read model
 * has it: the registry registers versions from training's events, asynchronously.
 */
export function registeredVersion<T = Record<string, unknown>>(
  h: Pick<Harness, 'call' | 'tokens'>,
  model: string,
  version: number,
  token: string = h.tokens.admin,
): Promise<T> {
  return eventually(
    async () => {
      const answer = await h.call<T>('GET', `/v1/models/${model}/versions/${version}`, token)
      return answer.status === 200 ? answer.body : undefined
    },
    30_000,
    `${model} v${version}`,
  )
}

/** The registry's events on a subject, by type. */
export async function eventsOf(h: Pick<Harness, 'store'>, subject: string) {
  return h.store.load(subject)
}
