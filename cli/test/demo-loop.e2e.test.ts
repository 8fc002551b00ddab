import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SYSTEM_PYTHON } from '@argmax/testkit/onnx-models'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DemoLoopResult } from '../src/demo/loop.ts'
import { queryAsAnalyst } from '../src/demo/lineage.ts'
import { loadFilms, MODEL } from '../src/demo/world.ts'
import { repoRoot } from '../src/stack/paths.ts'
import { freePortBase } from '../src/stack/ports.ts'
import type { StackState } from '../src/stack/state.ts'

/**
 * `argmax demo loop --fast` on a whole local stack of its own (a temporary data dir, a free
 * block of ports): v1 is made from scratch, round one promotes v2, round two's candidate (fitted
 * to buggy labels) is rolled back in its canary — and no more than the canary's share of the
 * requests of that canary saw it, counted in ClickHouse's prediction log by version.
 */
const argmax = join(repoRoot, 'cli/bin/argmax')
const tritonHttpClient = join(
  repoRoot,
  'services/inference/test/model-server/support/triton_http_client.py',
)

interface TritonAnswer {
  model_version: string
  parameters: { prediction_ids: string }
  outputs: { name: string; data: number[] }[]
}
const dataDir = mkdtempSync(join(tmpdir(), 'argmax-demo-loop-'))
// The platform's loops at a pace for a test run (the services read these at start-up).
const env = {
  ...process.env,
  ARGMAX_FEEDBACK_EVALUATION_INTERVAL_SECONDS: '5',
  ARGMAX_TRAINING_PIPELINE_SWEEP_SECONDS: '5',
  ARGMAX_REGISTRY_ROLLOUT_TICK_SECONDS: '3',
}

function run(
  args: string[],
  timeout: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      argmax,
      [...args, '--data-dir', dataDir],
      { timeout, maxBuffer: 64 << 20, env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** The services' warnings and errors from the stack's logs: why a failed demo did not go on. */
function warningsOf(services: string[]): string {
  return services
    .map((service) => {
      const file = join(dataDir, 'logs', `${service}.log`)
      const lines = existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((line) => /"level":"(warn|error|fatal)"/.test(line))
        : []
      return `── ${service}: ${lines.length} warnings\n${lines.slice(-15).join('\n')}`
    })
    .join('\n')
}

afterAll(async () => {
  await run(['down'], 120_000)
  rmSync(dataDir, { recursive: true, force: true })
})

describe('argmax demo loop', () => {
  let result: DemoLoopResult
  let output: string

  beforeAll(async () => {
    const up = await run(['up', '--detach', '--port-base', String(await freePortBase())], 300_000)
    expect(up.code, up.stderr).toBe(0)
    const demo = await run(['demo', 'loop', '--fast', '--seed', '11', '--json'], 1_200_000)
    output = demo.stderr
    expect(
      demo.code,
      `${demo.stderr}\n${demo.stdout.slice(0, 2000)}\n${warningsOf(['training', 'feedback', 'registry'])}`,
    ).toBe(0)
    result = JSON.parse(demo.stdout) as DemoLoopResult
  }, 1_600_000)

  it('promotes v2 in round one and keeps it champion when round two rolls back its candidate', () => {
    const { roundOne, roundTwo } = result
    expect(roundOne).toMatchObject({ pipelineStatus: 'completed', rolloutStatus: 'promoted' })
    expect(roundOne.trigger).toMatch(/^retrain_requested by system:feedback: monitor/)
    expect(roundOne.candidate).not.toBe(result.base.version)
    expect(result.championAfterRoundOne).toBe(roundOne.candidate)
    expect(roundTwo).toMatchObject({ pipelineStatus: 'completed', rolloutStatus: 'rolled_back' })
    expect(roundTwo.trigger).toMatch(/^manual by /)
    expect(roundTwo.candidate).not.toBe(roundOne.candidate)
    expect(result.champion).toBe(roundOne.candidate)

    // Round one went 10 → 50 → 100; round two failed its first step on live quality.
    const judged = (rolloutId: string | null) =>
      result.timeline
        .filter((e) => e.source === `rollout ${rolloutId}` && e.type === 'RolloutStepJudged')
        .map((e) => `${String(e.data['percent'])}:${String(e.data['verdict'])}`)
    expect(judged(roundOne.rolloutId)).toEqual(['10:pass', '50:pass', '100:pass'])
    expect(judged(roundTwo.rolloutId)).toEqual(['10:fail'])
    const failed = result.timeline.find(
      (e) => e.source === `rollout ${roundTwo.rolloutId}` && e.type === 'RolloutStepJudged',
    )!
    expect((failed.data['reasons'] as string[]).join(' ')).toMatch(/^mae [\d.]+ above [\d.]+/)

    // Both gates passed on the same holdout.
    const gates = result.timeline.filter((e) => e.type === 'PipelineGatePassed')
    expect(gates.map((e) => e.source)).toEqual([
      `pipeline ${roundOne.pipelineRunId}`,
      `pipeline ${roundTwo.pipelineRunId}`,
    ])
    expect(output).toContain('PENDING → FIRING')
  })

  it('let no more than the canary share of round two’s requests reach the rolled-back candidate', async () => {
    const state = JSON.parse(readFileSync(join(dataDir, 'run/state.json'), 'utf8')) as StackState
    const e = state.endpoints!
    const { roundTwo } = result
    const from = roundTwo.canaryFrom!.replace('T', ' ').slice(0, 19)
    const to = roundTwo.rolloutEndedAt!.replace('T', ' ').slice(0, 19)
    const rows = await queryAsAnalyst(
      {
        clickhouseUrl: e.clickhouseUrl,
        user: e.clickhouseAnalystUser,
        password: e.clickhouseAnalystPassword,
      },
      `SELECT version, uniqExact(request_id) AS requests
       FROM ${e.clickhouseDatabase}.inference_log
       WHERE model = 'movies' AND variant IN ('stable', 'canary')
         AND time >= toDateTime('${from}') AND time <= toDateTime('${to}')
       GROUP BY version`,
    )
    const byVersion = new Map(rows.map((r) => [Number(r['version']), Number(r['requests'])]))
    const bad = byVersion.get(roundTwo.candidate!) ?? 0
    const total = [...byVersion.values()].reduce((a, b) => a + b, 0)
    // Only the champion and the candidate served in the canary's window.
    expect([...byVersion.keys()].sort()).toEqual(
      [result.champion!, roundTwo.candidate!].sort((a, b) => a - b),
    )
    expect(total).toBeGreaterThan(50)
    expect(bad).toBeGreaterThan(0)
    // The split is a hash of each request id: a binomial share of 10 %; four standard
    // deviations above it happen by chance less than once in 30,000 runs.
    const bound = 0.1 * total + 4 * Math.sqrt(total * 0.1 * 0.9)
    expect(bad).toBeLessThanOrEqual(bound)
  })

  it('answers a client talking REST as tritonclient.http does, through the edge, as :predict does, and logs it', async () => {
    const state = JSON.parse(readFileSync(join(dataDir, 'run/state.json'), 'utf8')) as StackState
    const e = state.endpoints!
    const token = (
      await run(['login', '--role', 'user', '--subject', 'triton', '--print-only'], 60_000)
    ).stdout.trim()
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const signature = (await (
      await fetch(`${state.edgeUrl}/v2/models/${MODEL}`, { headers })
    ).json()) as { inputs: { name: string; datatype: string }[] }
    const films = loadFilms().slice(0, 5)
    // What the trainer reads as missing: NaN (null) for numbers, "" for categories.
    const inputs = signature.inputs.map((spec) => ({
      name: spec.name,
      datatype: spec.datatype,
      shape: [films.length],
      data: films.map((film) =>
        spec.datatype === 'BYTES' ? String(film[spec.name] ?? '') : (film[spec.name] ?? null),
      ),
    }))
    const triton = await new Promise<TritonAnswer>((resolve, reject) => {
      const child = execFile(
        SYSTEM_PYTHON,
        [tritonHttpClient, state.edgeUrl, token],
        { timeout: 60_000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
      )
      child.stdin!.end(JSON.stringify({ model_name: MODEL, model_version: '', id: 'e2e', inputs }))
    })
    const records = (await (
      await fetch(`${state.edgeUrl}/v1/models/${MODEL}:predict`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          instances: films.map((film) =>
            Object.fromEntries(
              signature.inputs.map((spec) => [spec.name, film[spec.name] ?? null]),
            ),
          ),
        }),
      })
    ).json()) as { version: number; predictions: number[] }
    expect(triton.model_version).toBe(String(records.version))
    triton.outputs[0]!.data.forEach((value, i) =>
      expect(value).toBeCloseTo(records.predictions[i]!, 5),
    )
    // Its predictions are in the analysts' table, once each.
    const ids = triton.parameters.prediction_ids.split(',')
    expect(ids).toHaveLength(films.length)
    let logged: Record<string, unknown>[] = []
    for (let attempt = 0; attempt < 60 && logged.length < ids.length; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500))
      logged = await queryAsAnalyst(
        {
          clickhouseUrl: e.clickhouseUrl,
          user: e.clickhouseAnalystUser,
          password: e.clickhouseAnalystPassword,
        },
        `SELECT prediction_id, count() AS copies FROM ${e.clickhouseDatabase}.inference_log
         WHERE model = '${MODEL}' AND prediction_id IN (${ids.map((id) => `'${id}'`).join(',')})
         GROUP BY prediction_id`,
      )
    }
    expect(logged.map((row) => row['prediction_id']).sort()).toEqual([...ids].sort())
    expect(logged.every((row) => Number(row['copies']) === 1)).toBe(true)
  })

  it('ends with the lineage in SQL over domain_events, read as the analyst', () => {
    const types = result.lineage.map((r) => r['type'])
    for (const type of [
      'MonitorStateChanged',
      'RetrainRequested',
      'PipelineRunStarted',
      'PipelineEvaluated',
      'PipelineGatePassed',
      'RolloutStepJudged',
      'RolloutPromoted',
      'RolloutReverted',
      'ReleaseChanged',
    ]) {
      expect(types, type).toContain(type)
    }
    const retrain = result.lineage.find((r) => r['type'] === 'RetrainRequested')!
    expect(retrain['caused_by']).toBe('MonitorStateChanged')
    expect(result.lineageSql).toMatch(/FROM \w+\.domain_events/)
  })
})
