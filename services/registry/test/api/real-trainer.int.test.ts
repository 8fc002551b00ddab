import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { SYSTEM_PYTHON } from '@argmax/testkit/onnx-models'
import type { ModelSignature, StoredObject, TrainingRunSucceededData } from '@argmax/contracts'
import { eventually, uniqueName } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publishRun, putBytes, sha256Hex, startHarness, type Harness } from '../support/harness.ts'

const trainPy = fileURLToPath(new URL('../../../training/trainers/train.py', import.meta.url))

/** The movies of vega-datasets as JSON Lines, as the demo uploads them. */
async function moviesJsonl(dir: string): Promise<{ path: string; sha256: string }> {
  const require = createRequire(import.meta.url)
  const data = join(dirname(require.resolve('vega-datasets')), '..', 'data', 'movies.json')
  const rows = JSON.parse(await readFile(data, 'utf8')) as object[]
  const text = rows.map((row) => JSON.stringify(row)).join('\n') + '\n'
  const path = join(dir, 'movies.jsonl')
  await writeFile(path, text)
  return { path, sha256: sha256Hex(text) }
}

describe('a run of the real trainer', () => {
  let h: Harness
  let work: string
  let output: string
  let dataset: { path: string; sha256: string }
  beforeAll(async () => {
    h = await startHarness()
    work = await mkdtemp(join(tmpdir(), 'argmax-registry-trainer-'))
    dataset = await moviesJsonl(work)
    output = join(work, 'out')
    await promisify(execFile)(SYSTEM_PYTHON, [
      trainPy,
      '--trainer',
      'xgboost',
      '--dataset',
      dataset.path,
      '--output',
      output,
      '--params',
      JSON.stringify({ target: 'IMDB Rating', seed: 1 }),
    ])
  }, 180_000)
  afterAll(async () => {
    await h.stop()
    await rm(work, { recursive: true, force: true })
  })

  it('becomes version 1 of its model with the trainer’s signature, metrics and lineage', async () => {
    const runId = uniqueName('run').replace(/_/g, '-')
    const prefix = `runs/${runId}/attempts/1/`
    const artifacts: Record<string, StoredObject> = {}
    const names: Record<string, string> = {
      'model.onnx': 'model',
      'schema.json': 'signature',
      'metrics.json': 'metrics',
      'model.json': 'native',
      'predictions-sample.jsonl': 'predictionsSample',
      'reproducibility.json': 'reproducibility',
      'train.log': 'log',
    }
    for (const file of await readdir(output)) {
      const name = names[file]
      if (name)
        artifacts[name] = await putBytes(h, prefix + file, await readFile(join(output, file)))
    }
    const metricsFile = JSON.parse(await readFile(join(output, 'metrics.json'), 'utf8')) as {
      test: Record<string, number | null>
      baseline: Record<string, number | null>
    }
    const metrics: Record<string, number> = {}
    for (const [name, value] of Object.entries(metricsFile.test))
      if (value !== null) metrics[name] = value
    for (const [name, value] of Object.entries(metricsFile.baseline)) {
      if (value !== null) metrics[`baseline_${name}`] = value
    }
    const signature = JSON.parse(
      await readFile(join(output, 'schema.json'), 'utf8'),
    ) as ModelSignature
    const succeeded: TrainingRunSucceededData = {
      runId,
      attempt: 1,
      model: 'movies',
      ownerId: 'alice',
      task: 'regression',
      trainer: { name: 'xgboost', codeVersion: 'workspace' },
      target: 'IMDB Rating',
      features: signature.inputs.map((i) => i.name),
      params: { seed: 1 },
      seed: 1,
      dataset: { datasetId: 'movies-dataset', versionId: 'movies-v1', sha256: dataset.sha256 },
      artifacts: artifacts as TrainingRunSucceededData['artifacts'],
      metrics,
      libraries: { xgboost: '1.7' },
      succeededAt: new Date().toISOString(),
    }
    await publishRun(h, { succeeded })
    const version = await eventually(
      async () => {
        const answer = await h.call<{
          version: number
          signature: ModelSignature
          metrics: Record<string, number>
          lineage: { datasetSha256: string }
          artifacts: Record<string, StoredObject>
        }>('GET', '/v1/models/movies/versions/1', h.tokens.alice)
        return answer.status === 200 ? answer.body : undefined
      },
      30_000,
      'version 1',
    )
    expect(version.signature).toEqual(signature)
    expect(version.metrics['rmse']).toBeLessThan(version.metrics['baseline_rmse']!)
    expect(version.lineage.datasetSha256).toBe(dataset.sha256)
    expect(Object.keys(version.artifacts).sort()).toEqual(Object.keys(artifacts).sort())

    const released = await h.call('PUT', '/v1/models/movies/release', h.tokens.alice, {
      stable: 1,
      reason: 'the first movies model',
    })
    expect(released.status).toBe(200)
  })

  it('registers the same model.onnx by hand with its schema.json: the real graph passes the checks', async () => {
    const onnx = await readFile(join(output, 'model.onnx'))
    const signature = JSON.parse(
      await readFile(join(output, 'schema.json'), 'utf8'),
    ) as ModelSignature
    const started = await h.call<{ upload: { uploadId: string }; url: string }>(
      'POST',
      '/v1/models/movies/uploads',
      h.tokens.alice,
      { signature, size: onnx.length, sha256: sha256Hex(onnx) },
    )
    expect(started.status).toBe(201)
    await fetch(started.body.url, { method: 'PUT', body: onnx })
    const done = await h.call<{ version: { version: number } }>(
      'POST',
      `/v1/models/movies/uploads/${started.body.upload.uploadId}/complete`,
      h.tokens.alice,
    )
    expect(done.status, JSON.stringify(done.body)).toBe(201)
    expect(done.body.version.version).toBe(2)
    // The same inputs: a compatible release, no `breaking` needed.
    const canary = await h.call('PUT', '/v1/models/movies/release', h.tokens.alice, {
      stable: 1,
      canary: { version: 2, percent: 10 },
      reason: 'hand-registered copy as canary',
    })
    expect(canary.status).toBe(200)
  })
})
