import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { createAnalyticsClient, type AnalyticsClient } from '@argmax/analytics'
import { generateDevSecret, mintDevToken, type Role } from '@argmax/auth'
import {
  REGISTRY_EVENTS,
  type ModelSignature,
  type Release,
  type StoredObject,
} from '@argmax/contracts'
import { createEventStore, ensureStreams, type EventStore } from '@argmax/events'
import { createLogger, createPrometheusMetrics, type PrometheusMetrics } from '@argmax/telemetry'
import {
  type ApiCall,
  connectNats,
  freshBucket,
  freshClickhouseDatabase,
  injectedApi,
  stackEndpoints,
  uniqueName,
} from '@argmax/testkit'
import type { NatsConnection } from 'nats'
import type { InferenceConfig } from '../../../src/config.ts'
import {
  createV2Client,
  loadModelServerConfig,
  startModelServer,
  type RunningModelServer,
  type V2Client,
} from '../../../src/model-server/index.ts'
import { startInferenceService, type RunningInferenceService } from '../../../src/service.ts'
import type { InferenceStreamNames } from '../../../src/streams.ts'

export const quietLogger = (service: string) =>
  createLogger({
    service,
    destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
  })

export interface TestModelServer {
  server: RunningModelServer
  address: string
  metrics: PrometheusMetrics
  /** ModelInfer calls that reached this server (success or error), from its own metric. */
  inferCalls(): Promise<number>
  stop(): Promise<void>
}

/** A model server in this process on the test kit's S3, verifying tokens with `secret`. */
export async function startTestModelServer(
  secret: string,
  env: Record<string, string> = {},
): Promise<TestModelServer> {
  const endpoints = stackEndpoints()
  const cacheDir = mkdtempSync(join(tmpdir(), 'argmax-gw-cache-'))
  const config = loadModelServerConfig({
    ARGMAX_S3_ENDPOINT: endpoints.s3.endpoint,
    ARGMAX_S3_REGION: endpoints.s3.region,
    ARGMAX_S3_ACCESS_KEY_ID: endpoints.s3.accessKeyId,
    ARGMAX_S3_SECRET_ACCESS_KEY: endpoints.s3.secretAccessKey,
    ARGMAX_S3_FORCE_PATH_STYLE: 'true',
    ARGMAX_JWT_SECRET: secret,
    ARGMAX_HTTP_PORT: '0',
    ARGMAX_MODEL_SERVER_GRPC_PORT: '0',
    ARGMAX_MODEL_SERVER_CACHE_DIR: cacheDir,
    ...env,
  })
  const metrics = createPrometheusMetrics({ serviceName: 'model-server' })
  const server = await startModelServer({
    config,
    logger: quietLogger('model-server'),
    meter: metrics.meter(),
    metrics: () => metrics.metricsText(),
    version: '0.1.0',
  })
  let stopped = false
  return {
    server,
    address: server.grpcAddress,
    metrics,
    async inferCalls() {
      const text = await metrics.metricsText()
      let total = 0
      for (const line of text.split('\n')) {
        if (line.startsWith('model_server_inference_total')) total += Number(line.split(' ').at(-1))
      }
      return total
    },
    async stop() {
      // A test may stop it early (a model server down); the harness's stop comes again.
      if (stopped) return
      stopped = true
      await server.stop()
      await metrics.shutdown()
      rmSync(cacheDir, { recursive: true, force: true })
    },
  }
}

/** A REGISTRY-like stream of its own that the test writes the registry's events to. */
export interface FakeRegistry {
  names: InferenceStreamNames['registry']
  store: EventStore
  /** Uploads the artifact and its schema.json, and appends ModelCreated (once) + ModelVersionRegistered. */
  registerVersion(
    model: string,
    version: number,
    onnx: Uint8Array,
    signature: ModelSignature,
  ): Promise<number>
  release(model: string, release: Release | null): Promise<number>
  /** Appends ModelAliasSet, as a retrain pipeline's registration of its challenger does. */
  setAlias(model: string, alias: string, version: number): Promise<number>
  /** Appends RolloutReverted (rolled back) for a candidate, as a failed canary does. */
  rollBack(model: string, candidate: number): Promise<number>
  deleteModel(model: string): Promise<number>
}

export async function startFakeRegistry(
  nc: NatsConnection,
  s3: S3Client,
  bucket: string,
  /** A real registry's stream to follow instead (the fake then writes nothing there). */
  existing?: InferenceStreamNames['registry'],
): Promise<FakeRegistry> {
  const names = existing ?? { stream: uniqueName('REGISTRY'), root: uniqueName('reg') }
  if (!existing) {
    const jsm = await nc.jetstreamManager()
    await ensureStreams(jsm, [
      { name: names.stream, subjects: [`${names.root}.>`], retention: 'limits' },
    ])
  }
  const store = createEventStore({ nc })
  const created = new Set<string>()
  const releases = new Map<string, Release | null>()
  const meta = { actor: 'system:registry' }
  const put = async (key: string, bytes: Uint8Array): Promise<StoredObject> => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }))
    return {
      uri: `s3://${bucket}/${key}`,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.byteLength,
    }
  }
  const append = async (subject: string, type: string, data: unknown) =>
    (await store.append(subject, [{ type, data }], { expectedLastSubjectSequence: 'any', meta }))
      .lastSequence
  return {
    names,
    store,
    async registerVersion(model, version, onnx, signature) {
      if (!created.has(model)) {
        created.add(model)
        await append(`${names.root}.model.${model}`, REGISTRY_EVENTS.modelCreated, {
          model,
          ownerId: 'alice',
          task: signature.task,
          description: '',
          tags: [],
          origin: 'user',
          createdAt: new Date().toISOString(),
        })
      }
      const artifact = await put(`models/${model}/${version}/model.onnx`, onnx)
      const schema = await put(
        `models/${model}/${version}/schema.json`,
        Buffer.from(JSON.stringify(signature)),
      )
      return append(`${names.root}.model.${model}`, REGISTRY_EVENTS.versionRegistered, {
        model,
        version,
        ownerId: 'alice',
        task: signature.task,
        artifact,
        signature: schema,
        metrics: {},
        source: { kind: 'upload' },
        lineage: {},
        registeredAt: new Date().toISOString(),
      })
    },
    async release(model, release) {
      const previous = releases.get(model) ?? null
      releases.set(model, release)
      return append(`${names.root}.release.${model}`, REGISTRY_EVENTS.releaseChanged, {
        model,
        release,
        previous,
        reason: 'test',
        changedAt: new Date().toISOString(),
      })
    },
    async setAlias(model, alias, version) {
      return append(`${names.root}.model.${model}`, REGISTRY_EVENTS.aliasSet, {
        model,
        alias,
        version,
        previous: null,
        setAt: new Date().toISOString(),
      })
    },
    async rollBack(model, candidate) {
      return append(`${names.root}.rollout.${model}`, REGISTRY_EVENTS.rolloutReverted, {
        rolloutId: `${model}.1`,
        model,
        candidate,
        outcome: 'rolled_back',
        release: releases.get(model) ?? null,
        releasePosition: null,
        revertedAt: new Date().toISOString(),
      })
    },
    async deleteModel(model) {
      return append(`${names.root}.model.${model}`, REGISTRY_EVENTS.modelDeleted, {
        model,
        deletedAt: new Date().toISOString(),
      })
    },
  }
}

export interface GatewayHarness {
  gateway: RunningInferenceService
  config: InferenceConfig
  registry: FakeRegistry
  modelServers: TestModelServer[]
  names: InferenceStreamNames
  secret: string
  predictionIdSecret: string
  bucket: string
  s3: S3Client
  nc: NatsConnection
  tokens: Record<'alice' | 'bob' | 'admin' | 'analyst', string>
  metrics: PrometheusMetrics
  clickhouse: AnalyticsClient | undefined
  grpc: V2Client
  grpcAs(token: string): V2Client
  rest: ApiCall
  /** Waits until a version serves through the gateway (a metadata + ready probe). */
  waitServing(model: string, version?: number, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

export interface GatewayHarnessOptions {
  modelServers?: number
  /** Model servers started elsewhere (processes), by gRPC address. */
  modelServerAddresses?: string[]
  sink?: boolean
  logMode?: 'durable' | 'async'
  logBuffer?: number
  env?: Partial<InferenceConfig['inference']>
  probeIntervalMs?: number
  listen?: boolean
  /** The JWT secret (model servers started elsewhere must share it). */
  secret?: string
  /** Follow a real registry's REGISTRY stream (another context's tests) instead of a fake one. */
  registryNames?: InferenceStreamNames['registry']
  /** Read a real dataset context's DATASET stream (batch predictions over its versions). */
  datasetNames?: InferenceStreamNames['dataset']
}

export async function startGatewayHarness(
  options: GatewayHarnessOptions = {},
): Promise<GatewayHarness> {
  const endpoints = stackEndpoints()
  const secret = options.secret ?? generateDevSecret()
  const predictionIdSecret = generateDevSecret()
  const nc = await connectNats()
  const { bucket, s3 } = await freshBucket('inference')
  const registry = await startFakeRegistry(nc, s3, bucket, options.registryNames)
  const modelServers: TestModelServer[] = []
  for (let i = 0; i < (options.modelServers ?? 2); i++)
    modelServers.push(await startTestModelServer(secret))
  const prefix = uniqueName('inf')
  const names: InferenceStreamNames = {
    log: { stream: uniqueName('INFERENCE_LOG'), subjectPrefix: `${prefix}.log` },
    batch: { stream: uniqueName('INFERENCE'), subjectPrefix: `${prefix}.batch` },
    registry: registry.names,
    dataset: options.datasetNames ?? { stream: uniqueName('DATASET'), root: uniqueName('ds') },
  }
  let clickhouse: AnalyticsClient | undefined
  let database = 'argmax'
  if (options.sink) {
    database = (await freshClickhouseDatabase('inference')).database
    clickhouse = createAnalyticsClient(
      {
        url: endpoints.clickhouseUrl,
        user: endpoints.clickhouseUser,
        password: endpoints.clickhousePassword,
      },
      { database },
    )
  }
  const config: InferenceConfig = {
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
    serviceClient: {},
    http: { host: '127.0.0.1', port: 0 },
    inference: {
      sink: {
        mode: options.sink ? 'embedded' : 'off',
        maxBatch: 1_000,
        maxWaitMs: 50,
        outageWaitMs: 600_000,
        ackWaitMs: 60_000,
      },
      retention: { days: 30, intervalMs: 0 },
      bucket,
      names,
      modelServers: [
        ...modelServers.map((m) => m.address),
        ...(options.modelServerAddresses ?? []),
      ],
      modelLoads: 'managed',
      grpc: { host: '127.0.0.1', port: 0 },
      predictionIdSecret,
      log: {
        mode: options.logMode ?? 'durable',
        bufferRecords: options.logBuffer ?? 10_000,
        lingerMs: 10,
      },
      maxMessageBytes: 1024 * 1024,
      timeoutMs: 10_000,
      merge: { maxRows: 256, inFlight: 8 },
      placementReplicas: 0,
      probeIntervalMs: options.probeIntervalMs ?? 200,
      shadowMaxInFlight: 64,
      metricsTopUsers: 20,
      pinnedIdleMs: 600_000,
      drainMs: 1_000,
      batchRows: 64,
      schema: uniqueName('inference').toLowerCase(),
      ...options.env,
    },
  }
  const metrics = createPrometheusMetrics({ serviceName: 'inference' })
  const gateway = await startInferenceService({
    config,
    logger: quietLogger('inference'),
    nc,
    meter: metrics.meter(),
    metrics: () => metrics.metricsText(),
    listen: options.listen ?? false,
  })
  const mint = (subject: string, roles: Role[]) =>
    mintDevToken({ secret, subject, roles, ttl: 3600 })
  const tokens = {
    alice: await mint('alice', ['user']),
    bob: await mint('bob', ['user']),
    admin: await mint('root', ['admin']),
    analyst: await mint('ann', ['analyst']),
  }
  const clients: V2Client[] = []
  const grpcAs = (token: string) => {
    const client = createV2Client(gateway.workers.grpc.address, { token })
    clients.push(client)
    return client
  }
  const grpc = grpcAs(tokens.alice)
  const harness: GatewayHarness = {
    gateway,
    config,
    registry,
    modelServers,
    names,
    secret,
    predictionIdSecret,
    bucket,
    s3,
    nc,
    tokens,
    metrics,
    clickhouse,
    grpc,
    grpcAs,
    rest: injectedApi(gateway.app),
    async waitServing(model, version, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      const url = version
        ? `/v2/models/${model}/versions/${version}/ready`
        : `/v2/models/${model}/ready`
      for (;;) {
        const answer = await harness.rest('GET', url, tokens.admin)
        if (answer.status === 200) return
        if (Date.now() > deadline)
          throw new Error(`${url} still answers ${answer.status}: ${JSON.stringify(answer.body)}`)
        // Asking for a pinned version loads it on demand (the request itself is refused).
        if (version) {
          await harness.rest(
            'POST',
            `/v2/models/${model}/versions/${version}/infer`,
            tokens.alice,
            {
              inputs: [{ name: '_', datatype: 'FP32', shape: [0], data: [] }],
            },
          )
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    async stop() {
      for (const client of clients) client.close()
      await gateway.stop()
      await Promise.all(modelServers.map((m) => m.stop()))
      await metrics.shutdown()
      await clickhouse?.close()
    },
  }
  return harness
}

export const newRequestId = () => randomUUID()

/** Raw FP32 bytes, little-endian, as tritonclient sends them. */
export function fp32Bytes(values: number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer)
}

export function readFp32(bytes: Uint8Array): number[] {
  const copy = Buffer.from(bytes)
  return Array.from({ length: copy.byteLength / 4 }, (_, i) => copy.readFloatLE(i * 4))
}
