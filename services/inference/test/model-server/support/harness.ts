import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { generateDevSecret, mintDevToken, type Role } from '@argmax/auth'
import type { ModelSignature } from '@argmax/contracts'
import { createLogger, createPrometheusMetrics } from '@argmax/telemetry'
import { freshBucket, stackEndpoints } from '@argmax/testkit'
import {
  createV2Client,
  loadModelServerConfig,
  startModelServer,
  type ArtifactLocation,
  type BatchReport,
  type LoadConfigInput,
  type RunningModelServer,
  type V2Client,
} from '../../../src/model-server/index.ts'

export interface ObservedBatch {
  model: string
  version: string
  report: BatchReport
}

export interface Harness {
  server: RunningModelServer
  /** A v2 gRPC client sending an admin token (pass `{ token }` per call for others). */
  grpc: V2Client
  tokens: Record<Role, string>
  secret: string
  bucket: string
  batches: ObservedBatch[]
  downloads: ArtifactLocation[]
  metricsText(): Promise<string>
  /** Moves the model server's wall clock (failed-load backoff, token expiry). */
  advanceClock(ms: number): void
  /** Puts an artifact in the test's bucket; answers its URI and SHA-256. */
  upload(key: string, bytes: Uint8Array): Promise<{ artifactUri: string; sha256: string }>
  /** RepositoryModelLoad with the repository convention's parameters. */
  load(name: string, version: string, config: LoadConfigInput): Promise<unknown>
  unload(name: string, version?: string): Promise<unknown>
  /** fetch against the REST form, with a token (admin unless given; null for none). */
  rest(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>
  stop(): Promise<void>
}

const quietLogger = createLogger({
  service: 'model-server',
  destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
})

export function loadParameters(version: string, config: unknown) {
  return {
    version: { string_param: version },
    config: { string_param: JSON.stringify(config) },
  }
}

export function linearConfig(
  artifact: { artifactUri: string; sha256: string },
  signature: ModelSignature,
  extra: Partial<LoadConfigInput> = {},
): LoadConfigInput {
  return { ...artifact, signature, ...extra }
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const endpoints = stackEndpoints()
  const secret = generateDevSecret()
  const cacheDir = mkdtempSync(join(tmpdir(), 'argmax-model-cache-'))
  const { bucket, s3 } = await freshBucket('models')
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
    ARGMAX_MODEL_SERVER_DOWNLOAD_ATTEMPTS: '2',
    ...env,
  })
  const prometheus = createPrometheusMetrics({ serviceName: 'model-server' })
  let clockOffset = 0
  const batches: ObservedBatch[] = []
  const downloads: ArtifactLocation[] = []
  const server = await startModelServer({
    config,
    logger: quietLogger,
    meter: prometheus.meter(),
    metrics: () => prometheus.metricsText(),
    version: '0.1.0',
    now: () => Date.now() + clockOffset,
    onBatch: (model, version, report) => batches.push({ model, version, report }),
    onDownload: (location) => downloads.push(location),
  })
  const mint = (role: Role) =>
    mintDevToken({ secret, subject: `${role}-1`, roles: [role], ttl: 3600 })
  const tokens = {
    user: await mint('user'),
    internal: await mint('internal'),
    admin: await mint('admin'),
    analyst: await mint('analyst'),
  }
  const grpc = createV2Client(server.grpcAddress, { token: tokens.admin })
  return {
    server,
    grpc,
    tokens,
    secret,
    bucket,
    batches,
    downloads,
    metricsText: () => prometheus.metricsText(),
    advanceClock: (ms) => {
      clockOffset += ms
    },
    async upload(key, bytes) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }))
      return {
        artifactUri: `s3://${bucket}/${key}`,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      }
    },
    load: (name, version, loadConfig) =>
      grpc.call('RepositoryModelLoad', {
        model_name: name,
        parameters: loadParameters(version, loadConfig),
      }),
    unload: (name, version) =>
      grpc.call('RepositoryModelUnload', {
        model_name: name,
        parameters: version === undefined ? {} : { version: { string_param: version } },
      }),
    rest(path, init = {}) {
      const { token = tokens.admin, ...rest } = init
      const headers = new Headers(rest.headers)
      if (token !== null) headers.set('authorization', `Bearer ${token}`)
      // A string body is JSON unless the test says otherwise; a binary body goes as it is.
      if (typeof rest.body === 'string' && !headers.has('content-type')) {
        headers.set('content-type', 'application/json')
      }
      return fetch(`${server.url}${path}`, { ...rest, headers })
    },
    async stop() {
      grpc.close()
      await server.stop()
      await prometheus.shutdown()
      rmSync(cacheDir, { recursive: true, force: true })
    },
  }
}

/** Raw FP32 bytes, little-endian, as tritonclient sends them. */
export function fp32Bytes(values: number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer)
}

/** BYTES elements as 4-byte-length-prefixed UTF-8, as tritonclient sends them. */
export function bytesElements(values: string[]): Buffer {
  return Buffer.concat(
    values.flatMap((value) => {
      const bytes = Buffer.from(value, 'utf8')
      const length = Buffer.alloc(4)
      length.writeUInt32LE(bytes.byteLength)
      return [length, bytes]
    }),
  )
}

export function readFp32(bytes: Uint8Array): number[] {
  const copy = Buffer.from(bytes)
  return Array.from({ length: copy.byteLength / 4 }, (_, i) => copy.readFloatLE(i * 4))
}
