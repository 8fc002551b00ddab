import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateDevSecret } from '@argmax/auth'
import type { ModelSignature, StoredObject } from '@argmax/contracts'
import type { RegistryClient } from '@argmax/registry-service/client'
import type { RunningRegistryService } from '@argmax/registry-service'
import { putStoredObject, readStoredObject } from '@argmax/storage'
import { uniqueName } from '@argmax/testkit'
import { InferenceSession, Tensor } from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PipelineDetails } from '../../src/api/pipelines.contract.ts'
import { EvaluationFailure, evaluateOnHoldout } from '../../src/application/evaluate-holdout.ts'
import { startTrainingHarness, type TrainingHarness } from '../support/harness.ts'
import { PYTHON, vega } from '../trainers/support.ts'
import { startRegistryBeside } from '../support/registry-beside.ts'

/**
 * The evaluate step against the real stack (training with the real xgboost trainer, a real
 * registry following its stream, NATS, PostgreSQL, S3): the candidate and the serving version
 * are both scored on the candidate's holdout — also when the candidate was trained on other
 * data than the serving version, which is what a retrain does.
 */
describe('pipeline evaluation on the candidate’s holdout', () => {
  let h: TrainingHarness
  let registry: RunningRegistryService
  let registryAsAdmin: RegistryClient
  let smallVersionId: string
  let largeVersionId: string
  const model = 'movies-eval'
  const work = mkdtempSync(join(tmpdir(), 'argmax-pipeline-eval-'))

  beforeAll(async () => {
    const secret = generateDevSecret()
    const trainingNames = { stream: uniqueName('TRAINING'), root: uniqueName('tr') }
    const setup = await startRegistryBeside({ secret, training: trainingNames })
    registry = setup.registry
    registryAsAdmin = setup.asAdmin
    h = await startTrainingHarness({
      secret,
      names: trainingNames,
      pipelines: { registryUrl: registry.url!, registryNames: setup.names, sweepMs: 500 },
    })
    const movies = vega('movies')
    smallVersionId = (await h.uploadVersion(h.tokens.alice, movies.slice(0, 600))).versionId
    // The retrain's data: more rows (the first 600 among them).
    largeVersionId = (await h.uploadVersion(h.tokens.alice, movies.slice(0, 2400))).versionId
  }, 180_000)

  afterAll(async () => {
    await h?.stop()
    await registry?.stop()
    rmSync(work, { recursive: true, force: true })
  })

  const config = (datasetVersionId: string, nEstimators: number) => ({
    data: { source: 'base', datasetVersionId },
    training: {
      target: 'IMDB Rating',
      trainer: 'xgboost',
      params: { n_estimators: nEstimators },
      seed: 3,
    },
    evaluation: {
      metric: 'mae',
      direction: 'lower_is_better',
      margin: 0.02,
      guards: [{ metric: 'rmse', direction: 'lower_is_better', tolerance: 0.05 }],
    },
    rollout: { steps: [10, 100] },
  })

  const show = async () => {
    const response = await h.call<PipelineDetails>('GET', `/v1/pipelines/${model}`, h.tokens.root)
    expect(response.status).toBe(200)
    return response.body
  }

  async function runToEnd(n: number): Promise<PipelineDetails> {
    const trigger = await h.call('POST', `/v1/pipelines/${model}/trigger`, h.tokens.root, {
      reason: `run ${n}`,
    })
    expect(trigger.status).toBe(200)
    const deadline = Date.now() + 180_000
    let last: PipelineDetails | undefined
    while (Date.now() < deadline) {
      last = await show()
      const run = last.pipeline.current
      if (run?.pipelineRunId === `${model}.${n}` && run.status !== 'running') return last
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    throw new Error(`run ${n} did not end; last: ${JSON.stringify(last?.pipeline.current)}`)
  }

  /** Version 1 as training's projection of the registry's events holds it. */
  const version1Objects = async () => {
    const row = await h.training.deps.db
      .selectFrom('registry_versions')
      .select(['artifact', 'signature'])
      .where('model', '=', model)
      .where('version', '=', 1)
      .executeTakeFirstOrThrow()
    return { artifact: row.artifact, signature: row.signature }
  }

  const evaluatedOf = (details: PipelineDetails) =>
    details.timeline.find((e) => e.type === 'PipelineEvaluated')!.data as {
      candidate: { metrics: Record<string, number>; trainingMetrics: Record<string, number> }
      serving: { version: number; artifact: StoredObject; metrics: Record<string, number> }
      holdout: { object: StoredObject; rows: number }
      details: StoredObject
      checks: Array<{ metric: string; passed: boolean }>
    }

  it('a first run has nothing to beat: released as version 1', async () => {
    const created = await h.call('POST', '/v1/pipelines', h.tokens.alice, {
      model,
      ...config(smallVersionId, 30),
    })
    expect(created.status).toBe(201)
    const done = await runToEnd(1)
    expect(done.pipeline.current).toMatchObject({ status: 'completed', version: 1 })
    expect(evaluatedOf(done)).toMatchObject({ serving: null, holdout: null, checks: [] })
  }, 240_000)

  it('a candidate trained on other data that is better on its holdout passes and is rolled out; the serving version’s numbers are scikit-learn’s', async () => {
    const update = await h.call(
      'PUT',
      `/v1/pipelines/${model}`,
      h.tokens.alice,
      config(largeVersionId, 150),
    )
    expect(update.status).toBe(200)
    const done = await runToEnd(2)
    const run = done.pipeline.current!
    expect(run).toMatchObject({ status: 'completed', version: 2, servingVersion: 1 })
    expect(run.rolloutId).toMatch(new RegExp(`^${model}\\.\\d+$`))
    const evaluated = evaluatedOf(done)
    // The candidate's holdout: its test split of the 2400 rows (15 % of the rows with a target).
    expect(evaluated.holdout.rows).toBeGreaterThan(200)
    expect(evaluated.holdout.rows).toBeLessThan(500)
    expect(run.holdoutRows).toBe(evaluated.holdout.rows)
    expect(evaluated.checks.every((c) => c.passed)).toBe(true)
    expect(evaluated.candidate.metrics['mae']).toBeLessThan(evaluated.serving.metrics['mae']!)
    // The full comparison is in S3 with the same numbers.
    const stored = JSON.parse(
      (
        await readStoredObject(h.training.deps.s3, evaluated.details, { maxBytes: 1 << 20 })
      ).toString('utf8'),
    ) as { serving: { metrics: Record<string, number> }; holdout: { rows: number } }
    expect(stored.serving.metrics).toEqual(evaluated.serving.metrics)
    expect(stored.holdout.rows).toBe(evaluated.holdout.rows)

    // Independently: version 1's model.onnx run here on the holdout's rows, its metrics
    // computed by scikit-learn in Debian's Python.
    const version1 = await version1Objects()
    expect(evaluated.serving.artifact).toEqual(
      (await registryAsAdmin.getVersion({ params: { name: model, version: '1' } })).artifact,
    )
    const expected = await sklearnMetrics(
      evaluated.holdout.object,
      evaluated.serving.artifact,
      version1.signature,
    )
    expect(expected.rows).toBe(evaluated.holdout.rows)
    for (const metric of ['mae', 'rmse', 'r2'] as const) {
      expect(Math.abs(evaluated.serving.metrics[metric]! - expected[metric]), metric).toBeLessThan(
        1e-6,
      )
    }
  }, 240_000)

  it('a candidate worse on the gate metric stops with the numbers: never challenger, never rolled out', async () => {
    const rolloutsBefore = (await registryAsAdmin.listRollouts({ query: { model } })).items.length
    // Three trees: far worse than version 1's thirty on the same rows.
    const update = await h.call(
      'PUT',
      `/v1/pipelines/${model}`,
      h.tokens.alice,
      config(largeVersionId, 3),
    )
    expect(update.status).toBe(200)
    const done = await runToEnd(3)
    const run = done.pipeline.current!
    expect(run.status).toBe('gate_failed')
    expect(run.servingVersion).toBe(1)
    const gate = run.checks.find((c) => c.role === 'gate')!
    expect(gate).toMatchObject({ metric: 'mae', passed: false })
    expect(gate.candidate!).toBeGreaterThan(gate.serving!)
    expect(run.gate?.reasons[0]).toMatch(/^mae .* vs .*: improvement -.* below the margin 2\.00 %$/)
    expect(done.timeline.map((e) => e.type)).not.toContain('PipelineRegistered')
    const aliases = await registryAsAdmin.listAliases({ params: { name: model } })
    expect(aliases.items.find((a) => a.alias === 'challenger')?.version).toBe(2)
    expect((await registryAsAdmin.listRollouts({ query: { model } })).items).toHaveLength(
      rolloutsBefore,
    )
  }, 240_000)

  it('a serving version whose artifact cannot be loaded fails the evaluation with the reason', async () => {
    const details = await show()
    const holdout = (
      details.timeline.find((e) => e.type === 'PipelineEvaluated')!.data as {
        holdout: { object: StoredObject }
      }
    ).holdout.object
    const version1 = await version1Objects()
    const candidate = {
      label: 'the candidate',
      model: version1.artifact,
      signature: version1.signature,
    }
    const garbage = await putStoredObject(h.training.deps.s3, {
      bucket: h.bucket,
      key: 'garbage/model.onnx',
      contentType: 'application/octet-stream',
      body: Buffer.from('not an onnx model'),
    })
    const attempt = (serving: StoredObject) =>
      evaluateOnHoldout(h.training.deps, {
        holdout,
        candidate,
        serving: { label: 'the serving version 9', model: serving, signature: version1.signature },
      })
    await expect(attempt(garbage)).rejects.toThrow(EvaluationFailure)
    await expect(attempt(garbage)).rejects.toThrow(
      /^the serving version 9: model\.onnx \(s3:\/\/.*garbage\/model\.onnx\) cannot be loaded: /,
    )
    const missing = { ...garbage, uri: garbage.uri.replace('garbage/', 'nowhere/') }
    await expect(attempt(missing)).rejects.toThrow(/^the serving version 9: .* does not exist$/)
    const tampered = { ...version1.artifact, sha256: '0'.repeat(64) }
    await expect(attempt(tampered)).rejects.toThrow(/are not the ones referenced/)
  }, 120_000)

  it('refuses to compare on a holdout that can hold rows the serving version trained on (another seed)', async () => {
    // Version 1 read the small version first with seed 3; seed 4 splits those rows otherwise.
    const leaky = config(smallVersionId, 30)
    const update = await h.call('PUT', `/v1/pipelines/${model}`, h.tokens.alice, {
      ...leaky,
      training: { ...leaky.training, seed: 4 },
    })
    expect(update.status).toBe(200)
    const done = await runToEnd(4)
    expect(done.pipeline.current).toMatchObject({
      status: 'failed',
      servingVersion: null,
      failure: {
        reason: 'evaluation_failed',
        message: expect.stringMatching(
          new RegExp(
            `^version 1 was trained on dataset version ${smallVersionId} \\(read first, seed 3\\) and the candidate read it with seed 4, not 3: `,
          ),
        ) as unknown,
      },
    })
    expect(done.timeline.map((e) => e.type)).not.toContain('PipelineEvaluated')
  }, 240_000)

  /** The holdout's rows through onnxruntime here, then scikit-learn's metrics in Python. */
  async function sklearnMetrics(
    holdout: StoredObject,
    artifact: StoredObject,
    signatureOf: StoredObject,
  ) {
    const s3 = h.training.deps.s3
    const rows = (await readStoredObject(s3, holdout, { maxBytes: 64 << 20 }))
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { inputs: Record<string, unknown>; target: number })
    const signature = JSON.parse(
      (await readStoredObject(s3, signatureOf, { maxBytes: 1 << 20 })).toString('utf8'),
    ) as ModelSignature
    const session = await InferenceSession.create(
      await readStoredObject(s3, artifact, { maxBytes: 512 << 20 }),
    )
    const feeds: Record<string, Tensor> = {}
    for (const input of signature.inputs) {
      const values = rows.map((r) => r.inputs[input.name] ?? null)
      feeds[input.name] =
        input.datatype === 'BYTES'
          ? new Tensor(
              'string',
              values.map((v) => (v === null ? '' : String(v))),
              [rows.length],
            )
          : new Tensor(
              'float32',
              Float32Array.from(values.map((v) => (v === null ? Number.NaN : Number(v)))),
              [rows.length],
            )
    }
    const output = signature.outputs[0]!.name
    const predictions = (await session.run(feeds, [output]))[output]!.data as Float32Array
    await session.release()
    const file = join(work, 'scored.json')
    writeFileSync(
      file,
      JSON.stringify({ y: rows.map((r) => r.target), p: Array.from(predictions) }),
    )
    const python = spawnSync(
      PYTHON,
      [
        '-c',
        [
          'import json, sys',
          'from sklearn import metrics as m',
          'd = json.load(open(sys.argv[1]))',
          'y, p = d["y"], d["p"]',
          'print(json.dumps({"rows": len(y), "mae": m.mean_absolute_error(y, p),',
          '  "rmse": m.mean_squared_error(y, p) ** 0.5, "r2": m.r2_score(y, p)}))',
        ].join('\n'),
        file,
      ],
      { encoding: 'utf8' },
    )
    expect(python.status, python.stderr).toBe(0)
    return JSON.parse(python.stdout) as { rows: number; mae: number; rmse: number; r2: number }
  }
})
