/**
 * The closed loop's benchmark: `argmax demo loop` on a local stack of its own, timed step by
 * step from its events — the loop's wall time and each step's share (the monitor firing → the
 * pipeline run, data, training, evaluation, gate and registration, the warm-up, the hand-over
 * to the canary, each canary step, the promotion), the time from the monitor firing to the canary's first request (from ClickHouse's
 * prediction log), and round two's trigger → rollback. Baseline, in the same run: the bare
 * training job of round one — the built-in trainer run directly on the very dataset version the
 * pipeline trained on — against the pipeline's training step.
 *
 *   npx tsx bench/loop.bench.ts [--seed 7] [--fast]
 *
 * Starts the stack with `argmax up` in a temporary data dir on a free block of ports (the
 * platform's loops ticking every few seconds, as the e2e test runs them) and stops it after. A
 * table on stderr, then ONE line of JSON on stdout.
 */
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { mintDevToken } from '@argmax/auth'
import { createDatasetClient } from '@argmax/dataset-service/client'
import { createTrainingClient } from '@argmax/training-service/client'
import { downloadVersion } from '../cli/src/datasets/download.ts'
import { queryAsAnalyst } from '../cli/src/demo/lineage.ts'
import {
  DEFAULT_OPTIONS,
  FAST_OPTIONS,
  runDemoLoop,
  type DemoLoopResult,
  type TimelineEntry,
} from '../cli/src/demo/loop.ts'
import { readDevSecret } from '../cli/src/stack/dev-secret.ts'
import { repoRoot, stackPaths } from '../cli/src/stack/paths.ts'
import { freePortBase } from '../cli/src/stack/ports.ts'
import { readState } from '../cli/src/stack/state.ts'

const PYTHON = '/usr/bin/python3'
const TRAIN_PY = join(repoRoot, 'services', 'training', 'trainers', 'train.py')
const argmax = join(repoRoot, 'cli/bin/argmax')

const { values } = parseArgs({
  options: { seed: { type: 'string', default: '7' }, fast: { type: 'boolean', default: false } },
})
const seed = Number(values.seed)
const dataDir = mkdtempSync(join(tmpdir(), 'argmax-loop-bench-'))
const env = {
  ...process.env,
  ARGMAX_FEEDBACK_EVALUATION_INTERVAL_SECONDS: '5',
  ARGMAX_TRAINING_PIPELINE_SWEEP_SECONDS: '5',
  ARGMAX_REGISTRY_ROLLOUT_TICK_SECONDS: '3',
}

function cli(args: string[], timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      argmax,
      [...args, '--data-dir', dataDir],
      { timeout, env, maxBuffer: 16 << 20 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    )
  })
}

/** The built-in trainer in local mode on a local file: the code a run executes, no platform. */
async function runDirect(file: string, output: string, job: object): Promise<number> {
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
  return (performance.now() - started) / 1000
}

const r1 = (x: number) => Math.round(x * 10) / 10
const seconds = (from: string | undefined, to: string | undefined) =>
  from && to ? (Date.parse(to) - Date.parse(from)) / 1000 : NaN

/** When the round's events happened: the first of each type (per step for the canary). */
function marks(result: DemoLoopResult, round: DemoLoopResult['roundOne']) {
  const mine = (e: TimelineEntry) =>
    e.source === `pipeline ${round.pipelineRunId}` || e.source === `rollout ${round.rolloutId}`
  const at = (type: string, step?: number) =>
    result.timeline.find(
      (e) => mine(e) && e.type === type && (step === undefined || e.data['step'] === step),
    )?.at
  return { at }
}

try {
  const base = await freePortBase()
  await cli(['up', '--detach', '--port-base', String(base)], 300_000)
  const paths = stackPaths(dataDir)
  const state = readState(paths.stateFile)!
  const e = state.endpoints!
  const token = await mintDevToken({
    secret: readDevSecret(paths.jwtSecretFile),
    subject: 'dev-admin',
    roles: ['admin'],
    ttl: 6 * 3600,
  })
  const analyst = {
    clickhouseUrl: e.clickhouseUrl,
    user: e.clickhouseAnalystUser,
    password: e.clickhouseAnalystPassword,
    database: e.clickhouseDatabase,
  }
  const options = { ...(values.fast ? FAST_OPTIONS : DEFAULT_OPTIONS), seed }
  const started = performance.now()
  const result = await runDemoLoop(
    {
      edgeUrl: state.edgeUrl,
      token,
      analyst,
      workDir: join(dataDir, 'demo'),
      log: (line) => console.error(line),
    },
    options,
  )
  const demoSeconds = (performance.now() - started) / 1000

  const one = marks(result, result.roundOne)
  const fired = result.timeline.find(
    (e) => e.type === 'MonitorStateChanged' && e.data['state'] === 'FIRING',
  )?.at
  const [firstCanary] = await queryAsAnalyst(
    analyst,
    `SELECT min(toUInt64(toUnixTimestamp(time)) * 1000 + time_ms) AS at_ms FROM ${e.clickhouseDatabase}.inference_log
     WHERE model = 'movies' AND variant = 'canary' AND version = ${result.roundOne.candidate}`,
  )
  const firstCanaryAt = new Date(Number(firstCanary!['at_ms'])).toISOString()
  const steps: Record<string, number> = {
    monitor_fired_to_run_started: seconds(fired, one.at('PipelineRunStarted')),
    data: seconds(one.at('PipelineRunStarted'), one.at('PipelineTrainingStarted')),
    training: seconds(one.at('PipelineTrainingStarted'), one.at('PipelineTrainingFinished')),
    evaluation: seconds(one.at('PipelineTrainingFinished'), one.at('PipelineEvaluated')),
    gate_register: seconds(one.at('PipelineEvaluated'), one.at('PipelineRegistered')),
    warm_up: seconds(one.at('PipelineRegistered'), one.at('PipelineWarmed')),
    handover: seconds(one.at('PipelineWarmed'), one.at('RolloutStepStarted', 0)),
    canary_10: seconds(one.at('RolloutStepStarted', 0), one.at('RolloutStepJudged', 0)),
    canary_50: seconds(one.at('RolloutStepJudged', 0), one.at('RolloutStepJudged', 1)),
    canary_100: seconds(one.at('RolloutStepJudged', 1), one.at('RolloutStepJudged', 2)),
    promotion: seconds(one.at('RolloutStepJudged', 2), one.at('RolloutPromoted')),
  }
  const loopSeconds = seconds(fired, one.at('RolloutPromoted'))
  const two = marks(result, result.roundTwo)
  const roundTwoSeconds = seconds(
    two.at('PipelineRunStarted'),
    result.roundTwo.rolloutEndedAt ?? undefined,
  )

  // Baseline: the round-one training job run directly on the same dataset version.
  const training = createTrainingClient({ baseUrl: state.edgeUrl, token })
  const datasets = createDatasetClient({ baseUrl: state.edgeUrl, token })
  const runId = result.timeline.find(
    (x) =>
      x.source === `pipeline ${result.roundOne.pipelineRunId}` &&
      x.type === 'PipelineTrainingStarted',
  )!.data['runId'] as string
  const run = await training.getRun({ params: { runId } })
  const version = await datasets.getVersion({
    params: { datasetId: run.dataset.datasetId, versionId: run.dataset.versionId },
  })
  const file = join(dataDir, `round-one.${version.format}`)
  await downloadVersion({
    api: datasets,
    datasetId: run.dataset.datasetId,
    versionId: run.dataset.versionId,
    outputPath: file,
  })
  const job = { target: run.target, seed: run.seed, params: run.params }
  await runDirect(file, join(dataDir, 'warm-up'), job) // Python's and XGBoost's first import
  const directSeconds = await runDirect(file, join(dataDir, 'direct'), job)

  const shares = Object.fromEntries(
    Object.entries(steps).map(([k, v]) => [k, Math.round((v / loopSeconds) * 1000) / 1000]),
  )
  console.error('| round one step | seconds | share of monitor firing → promoted |')
  console.error('| --- | --- | --- |')
  for (const [k, v] of Object.entries(steps)) console.error(`| ${k} | ${r1(v)} | ${shares[k]} |`)
  console.error(
    `loop ${r1(loopSeconds)} s; monitor firing → canary's first request ${r1(seconds(fired, firstCanaryAt))} s; ` +
      `training step ${r1(steps['training']!)} s vs the bare trainer on the same data ${r1(directSeconds)} s; ` +
      `round two trigger → rollback ${r1(roundTwoSeconds)} s; demo ${r1(demoSeconds)} s; load ${loadavg()[0]!.toFixed(2)}`,
  )
  console.log(
    JSON.stringify({
      bench: 'loop',
      seed,
      fast: values.fast,
      demo_seconds: r1(demoSeconds),
      loop_seconds: r1(loopSeconds),
      monitor_fired_to_canary_traffic_seconds: r1(seconds(fired, firstCanaryAt)),
      steps_seconds: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, r1(v)])),
      shares,
      round_two_trigger_to_rollback_seconds: r1(roundTwoSeconds),
      training_step_seconds: r1(steps['training']!),
      direct_training_seconds: r1(directSeconds),
      training_ratio: Math.round((steps['training']! / directSeconds) * 1000) / 1000,
      load: Number(loadavg()[0]!.toFixed(2)),
    }),
  )
} finally {
  await cli(['down'], 120_000).catch(() => undefined)
  rmSync(dataDir, { recursive: true, force: true })
}
