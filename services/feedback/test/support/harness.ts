import { createHash, randomBytes } from 'node:crypto'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { clickhouseDate, clickhouseDateTime, insertInChunks } from '@argmax/analytics'
import { generateDevSecret, mintDevToken, type Role } from '@argmax/auth'
import {
  issuePredictionId,
  REGISTRY_EVENTS,
  s3Uri,
  type ModelSignature,
  type ModelTask,
  type Release,
  type StoredObject,
} from '@argmax/contracts'
import { createEventStore, ensureStreams, type EventStore } from '@argmax/events'
import { createLogger, createPrometheusMetrics } from '@argmax/telemetry'
import {
  type ApiCall,
  connectNats,
  freshBucket,
  freshClickhouseDatabase,
  injectedApi,
  stackEndpoints,
  uniqueName,
} from '@argmax/testkit'
import type { S3Client } from '@argmax/storage'
import type { NatsConnection } from 'nats'
import type { FeedbackConfig } from '../../src/config.ts'
import { startFeedbackService, type RunningFeedbackService } from '../../src/service.ts'
import type { FeedbackStreamNames } from '../../src/streams.ts'

export interface Clock {
  now: () => Date
  advance(ms: number): void
  set(date: Date): void
}

export interface HarnessOptions {
  /** A database of the stack's ClickHouse; default: a fresh one. `argmax` for analyst tests. */
  clickhouseDatabase?: string
  sink?: 'embedded' | 'off'
  retentionDays?: number
  start?: Date
  listen?: boolean
  /** Overrides of the feedback settings. */
  feedback?: Partial<FeedbackConfig['feedback']>
  webhookRetryDelaysMs?: number[]
}

export interface Harness {
  service: RunningFeedbackService
  config: FeedbackConfig
  names: FeedbackStreamNames
  nc: NatsConnection
  store: EventStore
  s3: S3Client
  /** Where test signatures live (like the registry's models bucket). */
  modelsBucket: string
  clock: Clock
  secret: string
  tokens: Record<'alice' | 'bob' | 'admin' | 'analyst', string>
  mint(subject: string, roles: Role[]): Promise<string>
  call: ApiCall
  /** Registers a model, a version (signature in S3) and optionally releases it. */
  registerModel(model: ModelSpec): Promise<void>
  release(model: string, release: Release | null, previous?: Release | null): Promise<void>
  /** Issues prediction ids and writes their rows to `predictions`, as inference's sink does. */
  logPredictions(model: string, version: number, rows: PredictionSpec[]): Promise<string[]>
  predictionId(model: string, version: number, at?: Date): string
  /** Waits until the projections have seen the registry's and feedback's latest events. */
  settle(): Promise<void>
  stop(): Promise<void>
}

export interface ModelSpec {
  model: string
  version: number
  ownerId: string
  task: ModelTask
  signature: ModelSignature
  metrics?: Record<string, number>
  lineage?: { datasetId?: string; datasetVersionId?: string }
  createModel?: boolean
}

export interface PredictionSpec {
  inputs: Record<string, string | number | boolean | null>
  prediction?: number | null
  predictedClass?: string | null
  probabilities?: number[]
  at?: Date
  status?: 'success' | 'error'
  variant?: 'stable' | 'canary' | 'shadow' | 'pinned'
}

const DAY = 24 * 3600 * 1000

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const endpoints = stackEndpoints()
  const nc = await connectNats()
  const { bucket, s3 } = await freshBucket('analytics')
  const { bucket: modelsBucket } = await freshBucket('models')
  const database =
    options.clickhouseDatabase ?? (await freshClickhouseDatabase('feedback')).database
  const names: FeedbackStreamNames = {
    feedback: { stream: uniqueName('FEEDBACK'), root: uniqueName('fb') },
    log: { stream: uniqueName('FEEDBACK_LOG'), root: uniqueName('fblog') },
    registry: { stream: uniqueName('REGISTRY'), root: uniqueName('reg') },
    dataset: { stream: uniqueName('DATASET'), root: uniqueName('ds') },
    training: { stream: uniqueName('TRAINING'), root: uniqueName('tr') },
  }
  // Streams other contexts own, created here because their services do not run in this test.
  const jsm = await nc.jetstreamManager()
  await ensureStreams(jsm, [
    { name: names.registry.stream, subjects: [`${names.registry.root}.>`], retention: 'limits' },
    { name: names.dataset.stream, subjects: [`${names.dataset.root}.>`], retention: 'limits' },
    { name: names.training.stream, subjects: [`${names.training.root}.>`], retention: 'limits' },
  ])
  const secret = generateDevSecret()
  const predictionIdSecret = randomBytes(32).toString('base64url')
  let nowMs = (options.start ?? new Date()).getTime()
  const clock: Clock = {
    now: () => new Date(nowMs),
    advance: (ms) => void (nowMs += ms),
    set: (date) => void (nowMs = date.getTime()),
  }
  const config: FeedbackConfig = {
    nats: { url: endpoints.natsUrl, streamReplicas: 1 },
    postgres: { url: endpoints.postgresUrl },
    s3: { ...endpoints.s3, forcePathStyle: true },
    clickhouse: {
      url: endpoints.clickhouseUrl,
      user: endpoints.clickhouseUser,
      password: endpoints.clickhousePassword,
    },
    analytics: { database },
    auth: { mode: 'hs256', secret },
    http: { host: '127.0.0.1', port: 0 },
    feedback: {
      predictionIdSecret,
      webhookSecret: undefined,
      retentionDays: options.retentionDays ?? 30,
      retentionIntervalMs: 0,
      maxLabels: 10_000,
      idempotencyTtlMs: DAY,
      bucket,
      sink: { mode: options.sink ?? 'embedded', maxBatch: 20, maxWaitMs: 20, ackWaitMs: 30_000 },
      eventsSink: 'off',
      evaluationIntervalMs: 0,
      queryTimeoutMs: 30_000,
      gaugeWindow: '1h',
      webhook: { timeoutMs: 5_000, maxDeliver: 8 },
      schema: uniqueName('feedback').toLowerCase(),
      idempotencyBucket: uniqueName('FEEDBACK_IDEMPOTENCY'),
      names,
      ...options.feedback,
    },
  }
  // A Prometheus registry of this service's own, served on its /metrics.
  const prometheus = createPrometheusMetrics({ serviceName: 'feedback-test' })
  const service = await startFeedbackService({
    config,
    logger: createLogger({ service: 'feedback-test', level: 'warn' }),
    nc,
    now: clock.now,
    listen: options.listen ?? false,
    meter: prometheus.meter(),
    metrics: () => prometheus.metricsText(),
    ...(options.webhookRetryDelaysMs ? { webhookRetryDelaysMs: options.webhookRetryDelaysMs } : {}),
  })
  const store = createEventStore({ nc, now: clock.now })
  const mint = (subject: string, roles: Role[]) =>
    mintDevToken({ secret, subject, roles, ttl: 3600 })
  const tokens = {
    alice: await mint('alice', ['user']),
    bob: await mint('bob', ['user']),
    admin: await mint('root', ['admin']),
    analyst: await mint('ann', ['analyst']),
  }
  const registrySubject = (model: string) => `${names.registry.root}.model.${model}`
  const releaseSubject = (model: string) => `${names.registry.root}.release.${model}`
  let lastRegistry = 0

  const harness: Harness = {
    service,
    config,
    names,
    nc,
    store,
    s3,
    modelsBucket,
    clock,
    secret,
    tokens,
    mint,
    call: injectedApi(service.app),
    async registerModel(spec) {
      const signature = await putJson(
        s3,
        modelsBucket,
        `models/${spec.model}/${spec.version}/schema.json`,
        spec.signature,
      )
      const artifact: StoredObject = {
        uri: s3Uri(modelsBucket, 'none'),
        sha256: '0'.repeat(64),
        size: 0,
      }
      const at = clock.now().toISOString()
      const events = []
      if (spec.createModel !== false) {
        events.push({
          type: REGISTRY_EVENTS.modelCreated,
          data: {
            model: spec.model,
            ownerId: spec.ownerId,
            task: spec.task,
            description: '',
            tags: [],
            origin: 'user',
            createdAt: at,
          },
        })
      }
      events.push({
        type: REGISTRY_EVENTS.versionRegistered,
        data: {
          model: spec.model,
          version: spec.version,
          ownerId: spec.ownerId,
          task: spec.task,
          artifact,
          signature,
          metrics: spec.metrics ?? {},
          source: { kind: 'upload' },
          lineage: spec.lineage ?? {},
          registeredAt: at,
        },
      })
      const appended = await store.append(registrySubject(spec.model), events, {
        expectedLastSubjectSequence: 'any',
        meta: { actor: 'system:registry' },
      })
      lastRegistry = Math.max(lastRegistry, appended.lastSequence)
    },
    async release(model, release, previous = null) {
      const appended = await store.append(
        releaseSubject(model),
        [
          {
            type: REGISTRY_EVENTS.releaseChanged,
            data: {
              model,
              release,
              previous,
              reason: 'test',
              changedAt: clock.now().toISOString(),
            },
          },
        ],
        { expectedLastSubjectSequence: 'any', meta: { actor: 'alice' } },
      )
      lastRegistry = Math.max(lastRegistry, appended.lastSequence)
    },
    predictionId(model, version, at = clock.now()) {
      return issuePredictionId(predictionIdSecret, { issuedAt: at, model, version }, randomBytes(8))
    },
    async logPredictions(model, version, rows) {
      const ids: string[] = []
      const records = rows.map((row, index) => {
        const at = row.at ?? clock.now()
        const id = harness.predictionId(model, version, at)
        ids.push(id)
        const outputs: Record<string, unknown> =
          row.predictedClass !== undefined
            ? { label: row.predictedClass, probabilities: row.probabilities ?? [] }
            : { predictions: row.prediction ?? null }
        return {
          prediction_id: id,
          request_id: `req-${id.slice(3, 15)}`,
          time: clickhouseDateTime(at),
          time_ms: at.getUTCMilliseconds(),
          date: clickhouseDate(at),
          model,
          version,
          variant: row.variant ?? 'stable',
          release_sequence: null,
          caller: 'app',
          protocol: 'rest',
          status: row.status ?? 'success',
          error: '',
          latency_ms: 1.5,
          inputs: JSON.stringify(row.inputs),
          outputs: JSON.stringify(outputs),
          prediction: row.prediction ?? null,
          predicted_class: row.predictedClass ?? null,
          batch_id: 'test',
          row_index: index,
        }
      })
      await insertInChunks(service.analytics, 'predictions', records, 100_000)
      return ids
    },
    async settle() {
      const positionOf = async (stream: string) => (await jsm.streams.info(stream)).state.last_seq
      await service.projections.registry!.waitFor(await positionOf(names.registry.stream), 10_000)
      await service.projections.feedback!.waitFor(await positionOf(names.feedback.stream), 10_000)
    },
    stop: async () => {
      await service.stop()
      await prometheus.shutdown()
    },
  }
  void lastRegistry
  return harness
}

export async function putJson(
  s3: S3Client,
  bucket: string,
  key: string,
  value: unknown,
): Promise<StoredObject> {
  const body = Buffer.from(JSON.stringify(value))
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
  return {
    uri: s3Uri(bucket, key),
    sha256: createHash('sha256').update(body).digest('hex'),
    size: body.length,
  }
}

export function regressionSignature(
  inputs: Array<{ name: string; type: 'FP32' | 'BYTES' }>,
  target = 'y',
): ModelSignature {
  return {
    task: 'regression',
    inputs: inputs.map((input) => ({
      name: input.name,
      datatype: input.type,
      shape: [-1],
      nullable: true,
      column: input.name,
    })),
    outputs: [
      { name: 'predictions', datatype: 'FP32', shape: [-1], nullable: false, column: target },
    ],
  }
}

export function classificationSignature(
  inputs: Array<{ name: string; type: 'FP32' | 'BYTES' }>,
  classes: string[],
  target = 'y',
): ModelSignature {
  return {
    task: 'classification',
    inputs: inputs.map((input) => ({
      name: input.name,
      datatype: input.type,
      shape: [-1],
      nullable: true,
      column: input.name,
    })),
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1], nullable: false, column: target },
      {
        name: 'probabilities',
        datatype: 'FP32',
        shape: [-1, classes.length],
        nullable: false,
        column: target,
      },
    ],
    classes,
  }
}
