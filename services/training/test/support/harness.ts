import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateDevSecret, mintDevToken, type Role } from '@argmax/auth'
import { startDatasetService, type RunningDatasetService } from '@argmax/dataset-service'
import { datasetTestConfig } from '@argmax/dataset-service/testing'
import type { RecordedEvent } from '@argmax/events'
import { decodeRecorded, ensureStreams } from '@argmax/events'
import { createLogger } from '@argmax/telemetry'
import {
  type ApiCall,
  connectNats,
  freshBucket,
  injectedApi,
  stackEndpoints,
  stackEnv,
  uniqueName,
} from '@argmax/testkit'
import type { NatsConnection } from 'nats'
import { expect } from 'vitest'
import type { RunDetailView } from '../../src/api/contract.ts'
import type { TrainingConfig } from '../../src/config.ts'
import { BUILTIN_TRAIN_PY, DEBIAN_PYTHON } from '../../src/config.ts'
import { LocalRunner } from '../../src/runners/local/local-runner.ts'
import { startTrainingService, type RunningTrainingService } from '../../src/service.ts'
import type { TrainingStreamNames } from '../../src/streams.ts'
import { vega, writeCsv, type Row } from '../trainers/support.ts'

export const SCRIPTED_TRAINER = fileURLToPath(new URL('./scripted-trainer.py', import.meta.url))
const HOUR = 3600

export type User = 'alice' | 'bob' | 'ian' | 'root' | 'ann'
const ROLES: Record<User, Role[]> = {
  alice: ['user'],
  bob: ['user'],
  ian: ['internal'],
  root: ['admin'],
  ann: ['analyst'],
}

/** A clock that runs with real time and can be moved forward (windows, deadlines, aging). */
export interface TestClock {
  now(): Date
  advance(ms: number): void
  set(date: Date): void
}

export function testClock(start?: Date): TestClock {
  let offset = start ? start.getTime() - Date.now() : 0
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => void (offset += ms),
    set: (date) => void (offset = date.getTime() - Date.now()),
  }
}

export interface HarnessOptions {
  slots?: number
  heartbeatWindowSeconds?: number
  maxAttempts?: number
  retryBackoffSeconds?: number
  agingMinutes?: number
  /** `scripted`: test trainers whose mode the test picks (see scripted-trainer.py). */
  trainer?: 'real' | 'scripted'
  clock?: TestClock
  longRunUsers?: string[]
  schedulerIntervalMs?: number
  leaseSeconds?: number
  /** The platform's JWT secret (a registry started beside it must share it). */
  secret?: string
  /** The TRAINING stream's names (a registry started beside it follows them). */
  names?: TrainingStreamNames
  /** The dataset service's DATASET stream names (an inference gateway beside it reads them). */
  datasetNames?: { stream: string; root: string }
  /** Retrain pipelines: the registry they call and the streams they follow. */
  pipelines?: Partial<TrainingConfig['training']['pipelines']>
}

export interface TrainingHarness {
  training: RunningTrainingService
  dataset: RunningDatasetService
  runner: LocalRunner
  names: TrainingStreamNames
  bucket: string
  config: TrainingConfig
  clock: TestClock
  nc: NatsConnection
  tokens: Record<User, string>
  /** Where the scripted trainer reads its modes (write `default`, `<runId>`, `<runId>.<n>`). */
  control: string
  setMode(mode: string, target?: string): void
  call: ApiCall
  /** Uploads rows as a CSV version through the dataset API; waits until training knows it VALIDATED. */
  uploadVersion(
    token: string,
    rows?: Row[],
    name?: string,
  ): Promise<{ datasetId: string; versionId: string }>
  submit(
    token: string,
    body: Record<string, unknown>,
    key?: string,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }>
  waitForRun(
    runId: string,
    until: (run: RunDetailView) => boolean,
    timeoutMs?: number,
  ): Promise<RunDetailView>
  /** Every event of the TRAINING stream on subjects matching `filter` (NATS wildcards), in order. */
  events(filter: string): Promise<RecordedEvent[]>
  stop(): Promise<void>
}

/**
 * Fresh, empty REGISTRY and FEEDBACK streams for a training service under test: its projections
 * of them (registry versions and releases) read from a stream of their own, and the service is
 * ready once they run.
 */
export async function freshForeignStreams(nc: NatsConnection): Promise<{
  registry: { stream: string; root: string }
  feedback: { stream: string; root: string }
}> {
  const foreign = {
    registry: { stream: uniqueName('REGISTRY'), root: uniqueName('rg') },
    feedback: { stream: uniqueName('FEEDBACK'), root: uniqueName('fb') },
  }
  await ensureStreams(
    await nc.jetstreamManager(),
    Object.values(foreign).map((n) => ({
      name: n.stream,
      subjects: [`${n.root}.>`],
      retention: 'limits' as const,
    })),
  )
  return foreign
}

export async function startTrainingHarness(options: HarnessOptions = {}): Promise<TrainingHarness> {
  const endpoints = stackEndpoints()
  const secret = options.secret ?? generateDevSecret()
  const clock = options.clock ?? testClock()
  const nc = await connectNats()
  const logger = createLogger({
    service: 'training-test',
    level: (process.env['ARGMAX_TEST_LOG'] as 'info' | undefined) ?? 'warn',
  })

  const { dataset, datasetNames } = await startDatasetSide(
    nc,
    secret,
    logger,
    options.pipelines?.feedbackNames,
    options.datasetNames,
  )

  const names = options.names ?? { stream: uniqueName('TRAINING'), root: uniqueName('tr') }
  const foreign =
    options.pipelines?.registryNames && options.pipelines.feedbackNames
      ? { registry: options.pipelines.registryNames, feedback: options.pipelines.feedbackNames }
      : await freshForeignStreams(nc)
  const { bucket } = await freshBucket('models')
  const work = mkdtempSync(join(tmpdir(), 'argmax-training-test-'))
  const control = join(work, 'control')
  mkdirSync(control)
  const builtinCommand =
    options.trainer === 'scripted'
      ? [DEBIAN_PYTHON, SCRIPTED_TRAINER, control]
      : [DEBIAN_PYTHON, BUILTIN_TRAIN_PY]
  const config: TrainingConfig = {
    nats: { url: endpoints.natsUrl, streamReplicas: 1 },
    postgres: { url: endpoints.postgresUrl },
    s3: { ...endpoints.s3, forcePathStyle: true },
    auth: { mode: 'hs256', secret },
    serviceClient: {},
    http: { host: '127.0.0.1', port: 0 },
    training: {
      bucket,
      schema: uniqueName('training').toLowerCase(),
      names,
      datasetNames,
      runTokenSecret: generateDevSecret(),
      apiUrl: undefined,
      runner: 'local',
      local: { slots: options.slots ?? 2, gpus: 0, workDir: join(work, 'runner'), builtinCommand },
      heartbeatWindowMs: (options.heartbeatWindowSeconds ?? 3600) * 1000,
      retry: {
        maxAttempts: options.maxAttempts ?? 3,
        baseDelayMs: (options.retryBackoffSeconds ?? 1) * 1000,
        maxDelayMs: 60_000,
      },
      agingMs: (options.agingMinutes ?? 30) * 60_000,
      timeouts: {
        defaultSeconds: 36 * HOUR,
        longSeconds: 72 * HOUR,
        longRunUsers: options.longRunUsers ?? [],
      },
      quotas: {
        user: { concurrent: 3, hourly: 5, daily: 10 },
        internal: { concurrent: 3, hourly: 5, daily: 50 },
      },
      maxArtifactBytes: 512 * 1024 * 1024,
      maxCheckpointBytes: 512 * 1024 * 1024,
      holdoutMaxRows: 100_000,
      schedulerIntervalMs: options.schedulerIntervalMs ?? 250,
      leaseMs: (options.leaseSeconds ?? 3) * 1000,
      archiveAfterMs: 180 * 24 * HOUR * 1000,
      archiveIntervalMs: 0,
      heartbeatRetentionDays: 30,
      orphanGraceMs: 120_000,
      pipelines: {
        registryUrl: undefined,
        feedbackUrl: undefined,
        inferenceUrl: undefined,
        waitTimeoutMs: 600_000,
        // Fresh streams (created below): nothing is appended there unless a test does.
        registryNames: foreign.registry,
        feedbackNames: foreign.feedback,
        sweepMs: 0,
        ...options.pipelines,
      },
    },
  }
  const runner = new LocalRunner({
    workDir: config.training.local.workDir!,
    slots: config.training.local.slots,
    gpus: 0,
    builtinCommand,
    pollMs: 200,
    killGraceMs: 2000,
    killJobsOnStop: true,
  })
  const training = await startTrainingService({ config, logger, nc, now: clock.now, runner })

  const mint = (subject: User) =>
    mintDevToken({ secret, subject, roles: ROLES[subject], ttl: 4 * HOUR })
  const tokens = Object.fromEntries(
    await Promise.all((Object.keys(ROLES) as User[]).map(async (u) => [u, await mint(u)] as const)),
  ) as Record<User, string>
  const call = injectedApi(training.app)

  const harness: TrainingHarness = {
    training,
    dataset,
    runner,
    names,
    bucket,
    config,
    clock,
    nc,
    tokens,
    control,
    setMode(mode, target = 'default') {
      writeFileSync(join(control, target), mode)
    },
    call,
    async uploadVersion(token, rows = vega('movies'), name = 'movies') {
      const file = join(work, `${uniqueName(name)}.csv`)
      writeCsv(file, rows)
      const bytes = (await import('node:fs')).readFileSync(file)
      return uploadCsv(dataset, training, token, bytes, name)
    },
    submit(token, body, key) {
      return call('POST', '/v1/runs', token, body, key ? { 'idempotency-key': key } : {})
    },
    async waitForRun(runId, until, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs
      let last: RunDetailView | undefined
      for (;;) {
        const response = await call<RunDetailView>('GET', `/v1/runs/${runId}`, tokens.root)
        if (response.status === 200) {
          last = response.body
          if (until(last)) return last
        }
        if (Date.now() > deadline) {
          throw new Error(
            `run ${runId} did not get there in ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
          )
        }
        await new Promise((resolve) => setTimeout(resolve, 150))
      }
    },
    events: (filter) => readStream(nc, names.stream, filter),
    async stop() {
      await training.stop()
      await dataset.stop()
      rmSync(work, { recursive: true, force: true })
    },
  }
  return harness
}

async function uploadCsv(
  dataset: RunningDatasetService,
  training: RunningTrainingService,
  token: string,
  bytes: Buffer,
  name: string,
): Promise<{ datasetId: string; versionId: string }> {
  const uploaded = await uploadThroughDataset(dataset, token, bytes, name)
  // Training learns of it from the DATASET stream: wait until its own projection has it.
  const deadline = Date.now() + 60_000
  for (;;) {
    const row = await training.database.db
      .selectFrom('dataset_versions')
      .select('status')
      .where('version_id', '=', uploaded.versionId)
      .executeTakeFirst()
    if (row?.status === 'VALIDATED') return uploaded
    if (row?.status === 'REJECTED' || Date.now() > deadline) {
      throw new Error(`version ${uploaded.versionId} is ${row?.status ?? 'unknown to training'}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A CSV uploaded as one part through the dataset API; resolves once the version is VALIDATED. */
export async function uploadThroughDataset(
  dataset: RunningDatasetService,
  token: string,
  bytes: Buffer,
  name: string,
): Promise<{ datasetId: string; versionId: string }> {
  const api = injectedApi(dataset.app)
  const call = <T>(method: 'POST' | 'GET', url: string, body?: unknown) =>
    api<T>(method, url, token, body)
  const created = await call<{ id: string }>('POST', '/v1/datasets', { name })
  expect(created.status).toBe(201)
  const datasetId = created.body.id
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const started = await call<{ uploadId: string }>('POST', `/v1/datasets/${datasetId}/uploads`, {
    fileName: `${name}.csv`,
    size: bytes.length,
    sha256,
    format: 'csv',
  })
  expect(started.status, JSON.stringify(started.body)).toBe(201)
  const base = `/v1/datasets/${datasetId}/uploads/${started.body.uploadId}`
  const presigned = await call<{ parts: Array<{ url: string }> }>('POST', `${base}/parts`, {
    partNumbers: [1],
  })
  const put = await fetch(presigned.body.parts[0]!.url, { method: 'PUT', body: bytes })
  expect(put.status).toBe(200)
  const parts = [{ partNumber: 1, etag: put.headers.get('etag')! }]
  expect((await call('POST', `${base}/parts/recorded`, { parts })).status).toBe(200)
  expect((await call('POST', `${base}/complete`, { parts })).status).toBe(202)
  const versionId = started.body.uploadId
  const deadline = Date.now() + 60_000
  for (;;) {
    const version = await call<{ status: string }>(
      'GET',
      `/v1/datasets/${datasetId}/versions/${versionId}`,
    )
    if (version.body.status === 'VALIDATED') return { datasetId, versionId }
    if (version.body.status === 'REJECTED' || Date.now() > deadline) {
      throw new Error(`version ${versionId} is ${version.body.status}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The body of a movies regression run, with overrides. */
export function moviesRun(
  versionId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    model: 'movies-rating',
    datasetVersionId: versionId,
    target: 'IMDB Rating',
    trainer: 'xgboost',
    params: { n_estimators: 60 },
    seed: 1,
    ...overrides,
  }
}

export async function readStream(
  nc: NatsConnection,
  stream: string,
  filter: string,
): Promise<RecordedEvent[]> {
  const jsm = await nc.jetstreamManager()
  const last = (await jsm.streams.info(stream)).state.last_seq
  if (last === 0) return []
  const consumer = await nc.jetstream().consumers.get(stream, { filterSubjects: filter })
  const events: RecordedEvent[] = []
  // An ordered consumer stops at the end it finds; a short fetch ends a quiet filter.
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 })
    let got = 0
    for await (const message of batch) {
      got++
      events.push(decodeRecorded(message.data, message.seq))
      if (message.seq >= last) return events
    }
    if (got === 0) return events
  }
}

/** The dataset service in this process, on streams and a bucket of its own. */
export async function startDatasetSide(
  nc: NatsConnection,
  secret: string,
  logger: ReturnType<typeof createLogger>,
  /** The FEEDBACK stream whose feedback datasets it registers (default: a fresh, empty one). */
  feedback: { stream: string; root: string } = {
    stream: uniqueName('FEEDBACK'),
    root: uniqueName('fb'),
  },
  datasetNames = { stream: uniqueName('DATASET'), root: uniqueName('ds') },
): Promise<{ dataset: RunningDatasetService; datasetNames: { stream: string; root: string } }> {
  const { bucket: datasetBucket } = await freshBucket('datasets')
  const datasetConfig = datasetTestConfig({
    stackEnv: stackEnv(),
    secret,
    bucket: datasetBucket,
    schema: uniqueName('dataset').toLowerCase(),
    names: datasetNames,
    feedback,
    dataset: { validatorWorkers: 0 },
  })
  const dataset = await startDatasetService({ config: datasetConfig, logger, nc, listen: false })
  return { dataset, datasetNames }
}
