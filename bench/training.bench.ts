/**
 * Training platform benchmark: a run submitted to the training service (queue, scheduler, local
 * runner, heartbeats, checkpoint, artifact upload and ONNX check) against the same built-in
 * trainer run directly on the same file; the queue's dispatch latency; model quality on movies
 * against the mean predictor and a plain XGBoost script.
 *
 *   npx tsx bench/training.bench.ts [--rows 1000000] [--rounds 50] [--dispatch 20] [--seed 1]
 *
 * Starts its own nats-server, PostgreSQL and S3 (@argmax/stack), the dataset service and the
 * training service as processes (their main.ts, local runner, one slot), and uploads the files
 * through the dataset API. `--rows 0` skips the generated table. A table on stderr, then ONE
 * line of JSON on stdout.
 */
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import {
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { createDatasetClient, type DatasetClient } from '@argmax/dataset-service/client'
import {
  freePort,
  launchArgs,
  s3Credentials,
  startNats,
  startPostgres,
  startS3,
} from '@argmax/stack'
import { createS3Client, ensureBucket } from '@argmax/storage'
import {
  createTrainingClient,
  type RunDetailView,
  type TrainingClient,
} from '@argmax/training-service/client'
import { uploadFile } from '../cli/src/datasets/index.ts'
import { syntheticCsvChunks } from '../services/dataset/test/validation/synthetic-csv.ts'

const MiB = 1024 * 1024
const PYTHON = '/usr/bin/python3'
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const TRAIN_PY = join(repoRoot, 'services', 'training', 'trainers', 'train.py')
const PLAIN_PY = join(repoRoot, 'bench', 'plain-xgboost.py')
// The trainer's defaults, spelled out so the plain script gets exactly the same.
const MOVIES_PARAMS = {
  n_estimators: 200,
  max_depth: 6,
  learning_rate: 0.1,
  max_bin: 256,
  early_stopping_rounds: 20,
}

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '50' },
    dispatch: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
  },
})
const targetRows = Number(values.rows)
const rounds = Number(values.rounds)
const dispatchRuns = Number(values.dispatch)
const seed = Number(values.seed)

const r1 = (x: number) => Math.round(x * 10) / 10
const r3 = (x: number) => Math.round(x * 1000) / 1000
const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return
    await sleep(250)
  }
  throw new Error(`${url} did not become ready`)
}

/** The built-in trainer in local mode on a local file: the code a run executes, no platform. */
async function runDirect(
  file: string,
  output: string,
  job: object,
): Promise<{ wallSeconds: number; metrics: { test: Record<string, number> } }> {
  const started = performance.now()
  const child = spawn(
    PYTHON,
    [
      TRAIN_PY,
      '--trainer',
      'xgboost',
      '--dataset',
      file,
      '--output',
      output,
      '--params',
      JSON.stringify(job),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let tail = ''
  child.stderr.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4000)))
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`train.py exited ${code}: ${tail}`)
  const wallSeconds = (performance.now() - started) / 1000
  return { wallSeconds, metrics: JSON.parse(readFileSync(join(output, 'metrics.json'), 'utf8')) }
}

async function generateTable(file: string, rows: number): Promise<number> {
  // The validation bench's generator is sized in bytes: ≈ 53.5 bytes a record (0.98 M in 50 MiB).
  const out = createWriteStream(file)
  for (const chunk of syntheticCsvChunks(Math.round(rows * 53.5), MiB)) {
    if (!out.write(chunk)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return statSync(file).size
}

async function uploadVersion(
  api: DatasetClient,
  name: string,
  file: string,
): Promise<{ versionId: string; rows: number }> {
  const { id: datasetId } = await api.createDataset({ body: { name } })
  const { versionId } = await uploadFile({ api, datasetId, filePath: file, noResume: true })
  for (;;) {
    const version = await api.getVersion({ params: { datasetId, versionId } })
    if (version.status === 'VALIDATED') return { versionId, rows: version.rowCount ?? 0 }
    if (version.status === 'REJECTED') throw new Error(`${name} was rejected`)
    await sleep(250)
  }
}

/** Submits a run and follows it: wall time from submit to READY as the client sees it. */
async function runOnPlatform(
  training: TrainingClient,
  body: Parameters<TrainingClient['createRun']>[0]['body'],
): Promise<{ run: RunDetailView; wallSeconds: number }> {
  const started = performance.now()
  // Training's copy of the version may be a moment behind the dataset service's.
  let created
  for (let tries = 0; ; tries++) {
    try {
      created = await training.createRun({ body })
      break
    } catch (error) {
      if ((error as { status?: number }).status !== 404 || tries > 200) throw error
      await sleep(100)
    }
  }
  for (;;) {
    const run = await training.getRun({ params: { runId: created.id }, query: {} })
    if (['READY', 'FAILED', 'CANCELLED', 'DEAD_LETTERED'].includes(run.status)) {
      if (run.status !== 'READY')
        throw new Error(`run ${run.id} ended ${run.status}: ${JSON.stringify(run.failure)}`)
      return { run, wallSeconds: (performance.now() - started) / 1000 }
    }
    await sleep(50)
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'argmax-training-bench-'))
  const stops: Array<() => Promise<void>> = []
  const spawnService = async (name: string, env: Record<string, string>) => {
    const port = await freePort()
    const child = spawn(
      process.execPath,
      launchArgs(join(repoRoot, `services/${name}/src/main.ts`)),
      {
        cwd: repoRoot,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, ...env, ARGMAX_HTTP_PORT: String(port), OTEL_SDK_DISABLED: 'true' },
      },
    )
    const exited = new Promise((r) => child.once('exit', r))
    stops.unshift(async () => {
      child.kill('SIGTERM')
      await exited
    })
    const url = `http://127.0.0.1:${port}`
    await waitForReady(url, 120_000)
    return url
  }
  try {
    const [nats, postgres, s3] = await Promise.all([
      startNats({ dataDir, port: await freePort(), monitorPort: await freePort() }),
      startPostgres({ dataDir, port: await freePort(), ephemeral: true }),
      startS3({ dataDir, port: await freePort() }),
    ])
    stops.push(
      () => s3.stop(),
      () => postgres.stop(),
      () => nats.stop(),
    )
    const s3Client = createS3Client({ endpoint: s3.url, ...s3Credentials, forcePathStyle: true })
    await ensureBucket(s3Client, 'argmax-datasets')
    await ensureBucket(s3Client, 'argmax-models')
    const secret = generateDevSecret()
    const common = {
      ARGMAX_NATS_URL: nats.url,
      ARGMAX_POSTGRES_URL: postgres.url,
      ARGMAX_S3_ENDPOINT: s3.url,
      ARGMAX_S3_REGION: s3Credentials.region,
      ARGMAX_S3_ACCESS_KEY_ID: s3Credentials.accessKeyId,
      ARGMAX_S3_SECRET_ACCESS_KEY: s3Credentials.secretAccessKey,
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
      ARGMAX_AUTH_MODE: 'hs256',
      ARGMAX_JWT_SECRET: secret,
      ARGMAX_LOG_LEVEL: 'warn',
    }
    const datasetUrl = await spawnService('dataset', common)
    const trainingUrl = await spawnService('training', {
      ...common,
      ARGMAX_TRAINING_RUN_TOKEN_SECRET: generateDevSecret(),
      ARGMAX_TRAINING_WORK_DIR: join(dataDir, 'training'),
      // One job at a time: the platform's run and the direct one never share the two cores.
      ARGMAX_TRAINING_LOCAL_SLOTS: '1',
    })

    const token = await mintDevToken({ secret, subject: 'bench', roles: ['user'], ttl: 6 * 3600 })
    const admin = await mintDevToken({ secret, subject: 'root', roles: ['admin'], ttl: 6 * 3600 })
    const datasets = createDatasetClient({ baseUrl: datasetUrl, token })
    const training = createTrainingClient({ baseUrl: trainingUrl, token })
    // The bench submits more runs than a user's day allows.
    await createTrainingClient({ baseUrl: trainingUrl, token: admin }).setQuota({
      params: { userId: 'bench' },
      body: { concurrent: 1000, hourly: 1000, daily: 1000 },
    })

    // ── movies: quality and overhead ─────────────────────────────────────────────────────────
    const require = createRequire(join(repoRoot, 'services', 'dataset', 'package.json'))
    const moviesJson = join(dirname(require.resolve('vega-datasets')), '..', 'data', 'movies.json')
    const movies = JSON.parse(readFileSync(moviesJson, 'utf8')) as object[]
    const moviesJsonl = join(dataDir, 'movies.jsonl')
    writeFileSync(moviesJsonl, movies.map((m) => JSON.stringify(m)).join('\n') + '\n')
    const { versionId: moviesVersion } = await uploadVersion(datasets, 'movies', moviesJsonl)
    const moviesJob = { target: 'IMDB Rating', seed, params: MOVIES_PARAMS }
    // Untimed: Python's and XGBoost's first import, and the file, come from a cold cache once.
    await runDirect(moviesJsonl, join(dataDir, 'warm-up'), moviesJob)
    const direct = await runDirect(moviesJsonl, join(dataDir, 'direct-movies'), moviesJob)
    const platform = await runOnPlatform(training, {
      model: 'movies',
      datasetVersionId: moviesVersion,
      trainer: 'xgboost',
      ...moviesJob,
    })
    const { stdout } = await promisify(execFile)(PYTHON, [
      PLAIN_PY,
      moviesJson,
      'IMDB Rating',
      String(seed),
      JSON.stringify(MOVIES_PARAMS),
    ])
    const plain = JSON.parse(stdout.trim().split('\n').at(-1)!) as { test_rmse: number }
    const m = platform.run.metrics!
    const moviesResult = {
      direct_seconds: r1(direct.wallSeconds),
      platform_seconds: r1(platform.wallSeconds),
      overhead_seconds: r1(platform.wallSeconds - direct.wallSeconds),
      platform_rmse: r3(m['rmse']!),
      direct_rmse: r3(direct.metrics.test['rmse']!),
      plain_xgboost_rmse: r3(plain.test_rmse),
      mean_baseline_rmse: r3(m['baseline_rmse']!),
      mae: r3(m['mae']!),
      r2: r3(m['r2']!),
    }
    console.error(`movies: ${JSON.stringify(moviesResult)}`)

    // ── dispatch latency: submit → TRAINING with an idle queue ──────────────────────────────
    // The server's own timestamps (queuedAt → attemptStartedAt): no polling error. Each run is
    // cancelled once it trains, so the next one meets a free slot.
    const dispatch: number[] = []
    for (let i = 0; i < dispatchRuns; i++) {
      const created = await training.createRun({
        body: {
          model: 'movies',
          datasetVersionId: moviesVersion,
          trainer: 'xgboost',
          target: 'IMDB Rating',
          seed: i,
        },
      })
      let run: RunDetailView
      for (;;) {
        run = await training.getRun({ params: { runId: created.id }, query: {} })
        if (run.attemptStartedAt) break
        await sleep(20)
      }
      dispatch.push(seconds(run.queuedAt, run.attemptStartedAt) * 1000)
      await training.cancelRun({ params: { runId: created.id } })
      for (;;) {
        const ended = await training.getRun({ params: { runId: created.id }, query: {} })
        if (ended.status === 'CANCELLED' || ended.status === 'READY') break
        await sleep(50)
      }
    }
    const dispatchResult = dispatch.length
      ? {
          runs: dispatch.length,
          p50_ms: Math.round(percentile(dispatch, 50)),
          p99_ms: Math.round(percentile(dispatch, 99)),
          max_ms: Math.round(Math.max(...dispatch)),
        }
      : null
    console.error(
      `dispatch (submit → TRAINING), ms: ${dispatch.map(Math.round).join(', ')} → ${JSON.stringify(dispatchResult)}`,
    )

    // ── a generated table: the platform's overhead as a ratio ────────────────────────────────
    let tableResult: Record<string, number> | null = null
    if (targetRows > 0) {
      const file = join(dataDir, 'table.csv')
      const size = await generateTable(file, targetRows)
      const { versionId, rows } = await uploadVersion(datasets, 'generated', file)
      const job = {
        target: 'quantity',
        seed,
        params: { n_estimators: rounds, early_stopping_rounds: null },
      }
      const directLarge = await runDirect(file, join(dataDir, 'direct-table'), job)
      rmSync(join(dataDir, 'direct-table'), { recursive: true, force: true })
      const platformLarge = await runOnPlatform(training, {
        model: 'generated',
        datasetVersionId: versionId,
        trainer: 'xgboost',
        ...job,
      })
      tableResult = {
        size_mb: r1(size / MiB),
        rows,
        rounds,
        direct_seconds: r1(directLarge.wallSeconds),
        platform_seconds: r1(platformLarge.wallSeconds),
        queue_to_ready_seconds: r1(
          seconds(platformLarge.run.queuedAt, platformLarge.run.finishedAt!),
        ),
        ratio: r3(platformLarge.wallSeconds / directLarge.wallSeconds),
      }
      console.error(`generated table: ${JSON.stringify(tableResult)}`)
      rmSync(file, { force: true })
    }

    console.error('')
    console.error('| what | direct trainer | through the platform | |')
    console.error('| --- | --- | --- | --- |')
    console.error(
      `| movies submit → READY | ${moviesResult.direct_seconds} s | ${moviesResult.platform_seconds} s | +${moviesResult.overhead_seconds} s |`,
    )
    if (tableResult) {
      console.error(
        `| ${tableResult.size_mb} MiB table | ${tableResult.direct_seconds} s | ${tableResult.platform_seconds} s | ×${tableResult.ratio} |`,
      )
    }
    console.log(
      JSON.stringify({
        bench: 'training',
        movies: moviesResult,
        dispatch: dispatchResult,
        table: tableResult,
      }),
    )
    s3Client.destroy()
  } finally {
    for (const stop of stops) await stop().catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
