import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InferenceSession, Tensor } from 'onnxruntime-node'
import type { ModelSignature } from '@argmax/contracts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { verifyArtifact } from '../../src/artifacts/index.ts'
import {
  PYTHON,
  artifactFiles,
  readJson,
  readSample,
  trainLocally,
  vega,
  writeCsv,
  writeJsonl,
  type TrainerExit,
} from './support.ts'

interface Metrics {
  task: string
  classes: string[] | null
  rows: Record<string, number>
  test: Record<string, number>
  baseline: Record<string, number>
  iterations: { completed: number; best: number }
  history: Array<Record<string, number>>
}

const work = mkdtempSync(join(tmpdir(), 'argmax-trainers-'))
const moviesCsv = join(work, 'movies.csv')
const penguinsJsonl = join(work, 'penguins.jsonl')
const penguinsSexJsonl = join(work, 'penguins-sex.jsonl')
afterAll(() => rmSync(work, { recursive: true, force: true }))
beforeAll(() => {
  writeCsv(moviesCsv, vega('movies'))
  writeJsonl(penguinsJsonl, vega('penguins'))
  // One penguin's sex is recorded as '.': made missing here, so the target has two classes.
  writeJsonl(
    penguinsSexJsonl,
    vega('penguins').map((p) => ({
      ...p,
      Sex: p.Sex === 'MALE' || p.Sex === 'FEMALE' ? p.Sex : null,
    })),
  )
})

async function train(trainer: string, dataset: string, name: string, params: object) {
  const output = join(work, name)
  const exit = await trainLocally(trainer, dataset, output, params)
  if (exit.code !== 0) throw new Error(`train.py exited ${exit.code}: ${exit.stderr.slice(-3000)}`)
  return { output, exit, metrics: readJson<Metrics>(join(output, 'metrics.json')) }
}

function lastEvent(exit: TrainerExit) {
  return exit.events.at(-1)!
}

describe('xgboost', { timeout: 300_000 }, () => {
  test('regression on movies (CSV): beats the mean, exports an ONNX model that reproduces it', async () => {
    const { output, exit, metrics } = await train('xgboost', moviesCsv, 'xgb-movies', {
      target: 'IMDB Rating',
      seed: 1,
      checkpointEvery: 25,
    })
    expect(metrics.task).toBe('regression')
    // 3201 movies, 213 without a rating: 2988 split 70/15/15.
    expect(metrics.rows.read).toBe(3201)
    expect(metrics.rows.without_target).toBe(213)
    expect(metrics.rows.train! + metrics.rows.validation! + metrics.rows.test!).toBe(2988)
    expect(metrics.baseline.rmse).toBeGreaterThan(1.15)
    expect(metrics.baseline.rmse).toBeLessThan(1.4)
    expect(metrics.test.rmse).toBeLessThan(0.97)
    expect(metrics.test.rmse).toBeLessThan(0.8 * metrics.baseline.rmse!)
    expect(metrics.test.r2).toBeGreaterThan(0.4)
    expect(metrics.test.mae).toBeLessThan(metrics.baseline.mae!)

    // Progress: one JSON line per round with the train and validation metric, checkpoints.
    const progress = exit.events.filter((e) => e.event === 'progress')
    expect(progress.length).toBe(metrics.iterations.completed)
    expect(progress[0]).toMatchObject({ iteration: 1, totalIterations: 200 })
    expect(Object.keys(progress[0]!.metrics as object)).toEqual(['train-rmse', 'validation-rmse'])
    expect(exit.events.filter((e) => e.event === 'checkpoint').map((e) => e.iteration)).toContain(
      25,
    )
    expect(lastEvent(exit)).toMatchObject({ event: 'done' })

    const signature = readJson<ModelSignature>(join(output, 'schema.json'))
    expect(signature.task).toBe('regression')
    expect(signature.outputs).toEqual([
      {
        name: 'predictions',
        datatype: 'FP32',
        shape: [-1],
        nullable: false,
        column: 'IMDB Rating',
      },
    ])
    const byName = new Map(signature.inputs.map((i) => [i.name, i]))
    expect(byName.get('IMDB Votes')).toEqual({
      name: 'IMDB Votes',
      datatype: 'FP32',
      shape: [-1],
      nullable: true,
      column: 'IMDB Votes',
    })
    expect(byName.get('MPAA Rating')).toMatchObject({ datatype: 'BYTES', shape: [-1] })
    expect(byName.get('MPAA Rating')!.categories).toEqual(
      expect.arrayContaining(['R', 'PG-13', 'PG', 'G']),
    )
    expect(byName.has('IMDB Rating')).toBe(false)

    // The sample holds missing values and categories never seen in training (every title is unique).
    const sample = readSample(output)
    expect(sample).toHaveLength(100)
    expect(sample.some((s) => Object.values(s.inputs).some((v) => v === null))).toBe(true)
    const titles = new Set(byName.get('Title')!.categories)
    expect(
      sample.some((s) => s.inputs.Title !== null && !titles.has(s.inputs.Title as string)),
    ).toBe(true)

    const verdict = await verifyArtifact(artifactFiles(output))
    expect(verdict).toMatchObject({ ok: true, rows: 100, outputs: ['predictions'] })

    const native = readJson<{ learner: { objective: { name: string } } }>(
      join(output, 'model.json'),
    )
    expect(native.learner.objective.name).toBe('reg:squarederror')
    const repro = readJson<Record<string, Record<string, unknown>>>(
      join(output, 'reproducibility.json'),
    )
    expect(repro.seed).toBe(1)
    expect(repro.dataset!.sha256).toBe(
      createHash('sha256').update(readFileSync(moviesCsv)).digest('hex'),
    )
    expect(repro.libraries!.xgboost).toMatch(/^1\.7\./)
    expect(repro.libraries!['scikit-learn']).toMatch(/^1\.2\./)
    expect(repro.hardware!.cpu_cores).toBeGreaterThan(0)
    expect(repro.code!.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(readFileSync(join(output, 'train.log'), 'utf8')).toContain('rows with a target: train')
  })

  test('missing values and unseen categories at prediction time: ONNX equals XGBoost on them', async () => {
    const output = join(work, 'xgb-movies')
    const signature = readJson<ModelSignature>(join(output, 'schema.json'))
    // Row 0: every input missing. Row 1: categories the model never saw, numbers present.
    const raw: Array<Record<string, string | number | null>> = [
      Object.fromEntries(signature.inputs.map((i) => [i.name, null])),
      Object.fromEntries(
        signature.inputs.map((i) => [
          i.name,
          i.datatype === 'BYTES' ? 'never seen in training' : 1000,
        ]),
      ),
    ]
    const session = await InferenceSession.create(join(output, 'model.onnx'))
    const feeds = Object.fromEntries(
      signature.inputs.map((i) => [
        i.name,
        i.datatype === 'BYTES'
          ? new Tensor(
              'string',
              raw.map((r) => (r[i.name] as string | null) ?? ''),
              [2],
            )
          : new Tensor(
              'float32',
              Float32Array.from(raw.map((r) => (r[i.name] as number | null) ?? Number.NaN)),
              [2],
            ),
      ]),
    )
    const onnx = Array.from((await session.run(feeds)).predictions!.data as Float32Array)
    await session.release()
    // XGBoost itself on the same rows: an unknown category is missing (NaN) to the booster.
    const matrix = raw.map((r) =>
      signature.inputs.map((i) =>
        i.datatype === 'BYTES' || r[i.name] === null ? null : r[i.name],
      ),
    )
    const script = [
      'import json, sys, numpy as np, xgboost as xgb',
      'b = xgb.Booster(model_file=sys.argv[1])',
      'x = np.array([[np.nan if v is None else v for v in row] for row in json.loads(sys.argv[2])], dtype=np.float32)',
      'print(json.dumps([float(v) for v in b.inplace_predict(x)]))',
    ].join('\n')
    const library = JSON.parse(
      execFileSync(PYTHON, ['-c', script, join(output, 'model.json'), JSON.stringify(matrix)], {
        encoding: 'utf8',
      }),
    ) as number[]
    expect(onnx).toHaveLength(2)
    for (let r = 0; r < 2; r++) expect(Math.abs(onnx[r]! - library[r]!)).toBeLessThan(1e-4)
  })

  test('multi-class on penguins (JSON Lines): species from measurements', async () => {
    const { output, metrics } = await train('xgboost', penguinsJsonl, 'xgb-penguins', {
      target: 'Species',
      seed: 3,
    })
    expect(metrics.task).toBe('classification')
    expect(metrics.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo'])
    expect(metrics.test.accuracy).toBeGreaterThan(0.9)
    expect(metrics.test.accuracy).toBeGreaterThan(metrics.baseline.accuracy!)
    expect(metrics.test.log_loss).toBeLessThan(metrics.baseline.log_loss!)
    expect(metrics.test.roc_auc).toBeGreaterThan(0.95)
    expect(metrics.baseline.roc_auc).toBe(0.5)
    const signature = readJson<ModelSignature>(join(output, 'schema.json'))
    expect(signature.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo'])
    expect(signature.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['label', 'BYTES', [-1]],
      ['probabilities', 'FP32', [-1, 3]],
    ])
    expect(await verifyArtifact(artifactFiles(output))).toMatchObject({
      ok: true,
      outputs: ['label', 'probabilities'],
    })
  })

  test('binary classification (penguins Sex; rows without it left out)', async () => {
    const { output, metrics } = await train('xgboost', penguinsSexJsonl, 'xgb-sex', {
      target: 'Sex',
      seed: 1,
    })
    expect(metrics.classes).toEqual(['FEMALE', 'MALE'])
    expect(metrics.rows.without_target).toBeGreaterThan(0)
    expect(metrics.test.accuracy).toBeGreaterThan(metrics.baseline.accuracy! + 0.2)
    expect(metrics.test.roc_auc).toBeGreaterThan(0.85)
    const sample = readSample(output)
    expect(sample[0]!.outputs.probabilities).toHaveLength(2)
    expect(await verifyArtifact(artifactFiles(output))).toMatchObject({ ok: true })
  })
})

describe('linear', { timeout: 300_000 }, () => {
  test('regression on movies: imputation, scaling and one-hot inside the graph', async () => {
    const { output, metrics } = await train('linear', moviesCsv, 'linear-movies', {
      target: 'IMDB Rating',
      seed: 1,
      params: { alpha: 10, max_categories: 50 },
    })
    expect(metrics.test.rmse).toBeLessThan(0.85 * metrics.baseline.rmse!)
    expect(existsSync(join(output, 'model.pkl'))).toBe(true)
    expect(await verifyArtifact(artifactFiles(output))).toMatchObject({ ok: true, rows: 100 })
  })

  test('multi-class and binary logistic regression on penguins', async () => {
    const multi = await train('linear', penguinsJsonl, 'linear-penguins', {
      target: 'Species',
      seed: 2,
    })
    expect(multi.metrics.test.accuracy).toBeGreaterThan(0.9)
    expect(await verifyArtifact(artifactFiles(multi.output))).toMatchObject({ ok: true })
    const binary = await train('linear', penguinsSexJsonl, 'linear-sex', {
      target: 'Sex',
      seed: 2,
      params: { penalty: 'l1', C: 0.5 },
    })
    expect(binary.metrics.test.accuracy).toBeGreaterThan(binary.metrics.baseline.accuracy!)
    expect(await verifyArtifact(artifactFiles(binary.output))).toMatchObject({ ok: true })
  })
})

describe('user errors exit 2 with a JSON line naming the fault', { timeout: 120_000 }, () => {
  test('a bad parameter is refused before the data is read', async () => {
    const output = join(work, 'bad-param')
    const exit = await trainLocally('xgboost', join(work, 'does-not-matter.csv'), output, {
      target: 'IMDB Rating',
      params: { max_depth: 100 },
    })
    expect(exit.code).toBe(2)
    expect(lastEvent(exit)).toMatchObject({
      event: 'error',
      kind: 'user_error',
      parameter: 'params.max_depth',
      message: "'params.max_depth' must be an integer in [1, 32], not 100",
    })
    expect(existsSync(join(output, 'model.onnx'))).toBe(false)
    const unknown = await trainLocally('linear', moviesCsv, join(work, 'bad-param-2'), {
      target: 'IMDB Rating',
      params: { learning_rate: 0.1 },
    })
    expect(unknown.code).toBe(2)
    expect(lastEvent(unknown)).toMatchObject({
      kind: 'user_error',
      parameter: 'params.learning_rate',
    })
  })

  test('a missing target column', async () => {
    const exit = await trainLocally('xgboost', moviesCsv, join(work, 'no-target'), {
      target: 'Box Office',
    })
    expect(exit.code).toBe(2)
    expect(lastEvent(exit)).toMatchObject({
      kind: 'user_error',
      code: 'missing_column',
      parameter: 'target',
      column: 'Box Office',
    })
    expect(lastEvent(exit).message).toMatch(/^target column 'Box Office' is not in the dataset/)
  })

  test('regression asked of a text column', async () => {
    const exit = await trainLocally('xgboost', penguinsJsonl, join(work, 'text-target'), {
      target: 'Island',
      task: 'regression',
    })
    expect(exit.code).toBe(2)
    expect(lastEvent(exit)).toMatchObject({
      kind: 'user_error',
      code: 'invalid_target',
      column: 'Island',
    })
  })
})
