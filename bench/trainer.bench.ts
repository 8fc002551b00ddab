/**
 * Trainer benchmark: the built-in `xgboost` trainer (services/training/trainers, local mode —
 * the same code a run executes) against a plain XGBoost script with the same parameters on the
 * same split, and against the mean predictor; then its peak memory and time on a generated CSV
 * of about 2 GiB, which it must stream (DataIter → QuantileDMatrix), never hold.
 *
 *   npx tsx bench/trainer.bench.ts [--seeds 1,2,3] [--size-mb 2048] [--rounds 50]
 *
 * `--size-mb 0` skips the large file. MB are MiB. The generated file is deleted at the end.
 * A table on stderr, then ONE line of JSON on stdout.
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
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { syntheticCsvChunks } from '../services/dataset/test/validation/synthetic-csv.ts'

const MB = 1024 * 1024
const PYTHON = '/usr/bin/python3'
const here = dirname(fileURLToPath(import.meta.url))
const TRAIN_PY = join(here, '..', 'services', 'training', 'trainers', 'train.py')
const PLAIN_PY = join(here, 'plain-xgboost.py')
// The trainer's defaults, spelled out so the plain script gets exactly the same.
const PARAMS = {
  n_estimators: 200,
  max_depth: 6,
  learning_rate: 0.1,
  max_bin: 256,
  early_stopping_rounds: 20,
}

interface TrainerRun {
  metrics: {
    test: { rmse: number }
    baseline: { rmse: number }
    iterations: { best: number }
    rows: Record<string, number>
    resources: { peak_rss_mb: number; cpu_seconds: number }
    seconds: number
  }
  wallSeconds: number
  /** Largest VmHWM read from /proc while the trainer ran (its own peak RSS, measured outside it). */
  polledPeakRssMb: number
}

/** Runs train.py in local mode, polling its peak RSS from /proc as it goes. */
async function runTrainer(dataset: string, output: string, params: object): Promise<TrainerRun> {
  const started = performance.now()
  const child = spawn(
    PYTHON,
    [
      TRAIN_PY,
      '--trainer',
      'xgboost',
      '--dataset',
      dataset,
      '--output',
      output,
      '--params',
      JSON.stringify(params),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderrTail = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000)
  })
  child.stdout.resume()
  let polled = 0
  const poll = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status)
      if (hwm) polled = Math.max(polled, Number(hwm[1]) / 1024)
    } catch {
      // exited between two polls
    }
  }, 250)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearInterval(poll)
  if (code !== 0) throw new Error(`train.py exited with ${code}: ${stderrTail}`)
  const metrics = JSON.parse(
    readFileSync(join(output, 'metrics.json'), 'utf8'),
  ) as TrainerRun['metrics']
  return { metrics, wallSeconds: (performance.now() - started) / 1000, polledPeakRssMb: polled }
}

async function runPlain(moviesJson: string, seed: number) {
  const { stdout } = await promisify(execFile)(
    PYTHON,
    [PLAIN_PY, moviesJson, 'IMDB Rating', String(seed), JSON.stringify(PARAMS)],
    {
      env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
    },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    test_rmse: number
    baseline_rmse: number
    best_iteration: number
  }
}

const r3 = (x: number) => Math.round(x * 1000) / 1000
const r1 = (x: number) => Math.round(x * 10) / 10
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

async function generate(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file)
  for (const chunk of syntheticCsvChunks(bytes, MB)) {
    if (!out.write(chunk)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return statSync(file).size
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '1,2,3' },
      'size-mb': { type: 'string', default: '2048' },
      rounds: { type: 'string', default: '50' },
    },
  })
  const seeds = values.seeds.split(',').map(Number)
  const sizeMb = Number(values['size-mb'])
  const work = mkdtempSync(join(tmpdir(), 'argmax-trainer-bench-'))
  const cleanup = () => rmSync(work, { recursive: true, force: true })
  process.once('SIGINT', () => {
    cleanup()
    process.exit(130)
  })
  try {
    // Movies, as the dataset service would store an upload of it: JSON Lines.
    const moviesJson = join(
      dirname(createRequire(import.meta.url).resolve('vega-datasets')),
      '..',
      'data',
      'movies.json',
    )
    const movies = JSON.parse(readFileSync(moviesJson, 'utf8')) as object[]
    const moviesJsonl = join(work, 'movies.jsonl')
    writeFileSync(moviesJsonl, movies.map((m) => JSON.stringify(m)).join('\n') + '\n')

    const rows: {
      seed: number
      ours: number
      plain: number
      baseline: number
      oursSeconds: number
    }[] = []
    for (const seed of seeds) {
      const ours = await runTrainer(moviesJsonl, join(work, `movies-${seed}`), {
        target: 'IMDB Rating',
        seed,
        params: PARAMS,
      })
      const plain = await runPlain(moviesJson, seed)
      rows.push({
        seed,
        ours: ours.metrics.test.rmse,
        plain: plain.test_rmse,
        baseline: ours.metrics.baseline.rmse,
        oursSeconds: ours.wallSeconds,
      })
      console.error(
        `movies seed ${seed}: test RMSE ours ${r3(ours.metrics.test.rmse)} (best round ${ours.metrics.iterations.best}), ` +
          `plain xgboost ${r3(plain.test_rmse)} (best round ${plain.best_iteration}), mean baseline ${r3(ours.metrics.baseline.rmse)}, ` +
          `ours took ${r1(ours.wallSeconds)} s`,
      )
    }
    const movieResult = {
      seeds,
      ours_rmse: r3(mean(rows.map((r) => r.ours))),
      plain_xgboost_rmse: r3(mean(rows.map((r) => r.plain))),
      mean_baseline_rmse: r3(mean(rows.map((r) => r.baseline))),
      ours_over_plain: r3(mean(rows.map((r) => r.ours)) / mean(rows.map((r) => r.plain))),
      ours_seconds: r1(mean(rows.map((r) => r.oursSeconds))),
    }
    console.error(`movies, mean over seeds: ${JSON.stringify(movieResult)}`)

    let large: Record<string, number> | null = null
    if (sizeMb > 0) {
      const file = join(work, 'large.csv')
      console.error(`generating ${sizeMb} MB of CSV in ${file}`)
      const size = await generate(file, sizeMb * MB - MB / 2)
      const run = await runTrainer(file, join(work, 'large-out'), {
        target: 'quantity',
        seed: 1,
        params: { n_estimators: Number(values.rounds), early_stopping_rounds: null },
      })
      rmSync(file, { force: true })
      large = {
        size_mb: r1(size / MB),
        rows: run.metrics.rows.read!,
        rounds: Number(values.rounds),
        seconds: r1(run.wallSeconds),
        mb_per_s: r1(size / MB / run.wallSeconds),
        peak_rss_mb: r1(Math.max(run.metrics.resources.peak_rss_mb, run.polledPeakRssMb)),
      }
      console.error(
        `large CSV: ${large.size_mb} MB, ${large.rows} rows, ${large.rounds} rounds in ${large.seconds} s ` +
          `(trainer's own log: ${
            readFileSync(join(work, 'large-out', 'train.log'), 'utf8')
              .trim()
              .split('\n').length
          } lines), ` +
          `peak RSS ${large.peak_rss_mb} MB`,
      )
      process.stderr.write(readFileSync(join(work, 'large-out', 'train.log'), 'utf8'))
    }
    console.log(JSON.stringify({ bench: 'trainer', movies: movieResult, large_csv: large }))
  } finally {
    cleanup()
  }
}

await main()
