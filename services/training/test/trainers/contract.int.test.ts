import { createServer, type IncomingMessage, type Server } from 'node:http'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { presignGetObject } from '@argmax/storage'
import { freshBucket } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { verifyArtifact } from '../../src/artifacts/index.ts'
import { finish, readSample, startTrainer, trainLocally, vega, writeCsv } from './support.ts'

/**
 * The job contract end to end: the dataset from a real presigned S3 GET (the test kit's S3),
 * and a small real HTTP server in the training API's role — it checks the run's bearer token,
 * records heartbeats, keeps the run's checkpoint across attempts and stores artifact PUTs.
 */
const RUN = 'run-01JTEST'
const TOKEN = 'run-scoped-token'

interface Heartbeat {
  attempt: number
  iteration: number
  totalIterations: number
  metrics: Record<string, number>
  message?: string
}

class FakeTrainingApi {
  heartbeats: Heartbeat[] = []
  checkpoint: Buffer | undefined
  checkpointPuts = 0
  artifacts = new Map<string, Buffer>() // `${attempt}/${name}`
  refused = 0
  onCheckpoint: ((count: number) => void) | undefined
  server: Server

  constructor() {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, body }) => {
          if (res.destroyed) return
          res.writeHead(status, { 'content-type': 'application/json' })
          res.end(body ?? '')
        },
        () => res.destroy(),
      )
    })
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body?: Buffer | string }> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      this.refused++
      return { status: 401, body: '{"title":"unauthenticated"}' }
    }
    const url = req.url ?? ''
    if (req.method === 'POST' && url === `/v1/runs/${RUN}/heartbeats`) {
      this.heartbeats.push(JSON.parse(body.toString()) as Heartbeat)
      return { status: 204 }
    }
    if (url === `/v1/runs/${RUN}/checkpoint`) {
      if (req.method === 'GET')
        return this.checkpoint ? { status: 200, body: this.checkpoint } : { status: 404 }
      if (req.method === 'PUT') {
        this.checkpoint = body
        this.checkpointPuts++
        this.onCheckpoint?.(this.checkpointPuts)
        return { status: 204 }
      }
    }
    const artifact = /^\/v1\/runs\/([^/]+)\/attempts\/(\d+)\/artifacts\/([^/]+)$/.exec(url)
    if (req.method === 'PUT' && artifact && artifact[1] === RUN) {
      this.artifacts.set(`${artifact[2]}/${decodeURIComponent(artifact[3]!)}`, body)
      return { status: 204 }
    }
    return { status: 404 }
  }
}

const work = mkdtempSync(join(tmpdir(), 'argmax-contract-'))
const moviesCsv = join(work, 'movies.csv')
const scratch = join(work, 'scratch')
let datasetUrl: string
let api: FakeTrainingApi
let apiUrl: string

beforeAll(async () => {
  writeCsv(moviesCsv, vega('movies'))
  mkdirSync(scratch)
  const { bucket, s3 } = await freshBucket('trainer')
  const key = 'datasets/d1/versions/v1/data.csv'
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(moviesCsv) }))
  datasetUrl = await presignGetObject(s3, { bucket, key, expiresInSeconds: 3600 })
  api = new FakeTrainingApi()
  apiUrl = await api.start()
})
afterAll(async () => {
  api.server.close()
  rmSync(work, { recursive: true, force: true })
})

function contractEnv(attempt: number, params: object): Record<string, string> {
  return {
    ARGMAX_RUN_ID: RUN,
    ARGMAX_ATTEMPT: String(attempt),
    ARGMAX_DATASET_URL: datasetUrl,
    ARGMAX_DATASET_FORMAT: 'csv',
    ARGMAX_PARAMS: JSON.stringify(params),
    ARGMAX_API_URL: apiUrl,
    ARGMAX_RUN_TOKEN: TOKEN,
    // A SIGKILLed attempt cannot remove its scratch files: keep them where afterAll cleans up.
    ARGMAX_WORK_DIR: scratch,
  }
}

function uploaded(attempt: number) {
  const get = (name: string) => api.artifacts.get(`${attempt}/${name}`)
  return {
    get,
    names: [...api.artifacts.keys()]
      .filter((k) => k.startsWith(`${attempt}/`))
      .map((k) => k.slice(2)),
  }
}

describe('contract mode', { timeout: 300_000 }, () => {
  test('streams the presigned dataset, reports heartbeats, uploads every output; the artifact passes', async () => {
    api.checkpoint = undefined
    const exit = await finish(
      startTrainer(
        ['--trainer', 'xgboost'],
        contractEnv(1, { target: 'IMDB Rating', seed: 4, checkpointEvery: 10 }),
      ),
    )
    expect(exit.stderr).not.toContain('Traceback')
    expect(exit.code).toBe(0)
    expect(api.refused).toBe(0)
    const files = uploaded(1)
    expect(files.names.sort()).toEqual(
      [
        'holdout.jsonl',
        'metrics.json',
        'model.json',
        'model.onnx',
        'predictions-sample.jsonl',
        'reproducibility.json',
        'schema.json',
        'train.log',
      ].sort(),
    )
    // The holdout: every test record with a target (fewer than ARGMAX_HOLDOUT_MAX_ROWS here),
    // inputs as the tensors take them and the true value.
    const holdout = files
      .get('holdout.jsonl')!
      .toString()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { row: number; inputs: object; target: number })
    const rows = (
      JSON.parse(files.get('metrics.json')!.toString()) as {
        rows: { test: number; holdout: number }
      }
    ).rows
    expect(holdout).toHaveLength(rows.test)
    expect(rows.holdout).toBe(rows.test)
    expect(typeof holdout[0]!.target).toBe('number')
    expect(Object.keys(holdout[0]!.inputs)).toContain('Title')
    const beats = api.heartbeats.filter((h) => h.attempt === 1)
    expect(beats.length).toBeGreaterThan(0)
    const progress = beats.filter((h) => h.iteration > 0)
    expect(progress.length).toBeGreaterThan(0)
    expect(progress[0]).toMatchObject({ totalIterations: 200 })
    expect(Object.keys(progress[0]!.metrics)).toEqual(['train-rmse', 'validation-rmse'])
    expect(beats.at(-1)!.message).toBe('done')
    expect(api.checkpointPuts).toBeGreaterThan(0)

    const verdict = await verifyArtifact({
      model: files.get('model.onnx')!,
      schema: files.get('schema.json')!.toString(),
      sample: files.get('predictions-sample.jsonl')!.toString(),
    })
    expect(verdict).toMatchObject({ ok: true, rows: 100 })
    const repro = JSON.parse(files.get('reproducibility.json')!.toString()) as {
      run: object
      dataset: { sha256: string }
    }
    expect(repro.run).toEqual({ id: RUN, attempt: '1' })
  })

  test('killed mid-training, the next attempt resumes from the checkpoint and ends with the same model', async () => {
    api.checkpoint = undefined
    api.checkpointPuts = 0
    const params = {
      target: 'IMDB Rating',
      seed: 9,
      checkpointEvery: 20,
      params: { n_estimators: 300, learning_rate: 0.05, early_stopping_rounds: null },
    }
    // Attempt 1 is SIGKILLed while its second checkpoint (round 40) is being stored.
    const first = startTrainer(['--trainer', 'xgboost'], contractEnv(1, params))
    api.onCheckpoint = (count) => {
      if (count === 2) first.kill('SIGKILL')
    }
    const killed = await finish(first)
    api.onCheckpoint = undefined
    expect(killed.signal).toBe('SIGKILL')
    expect(api.checkpointPuts).toBe(2)

    const second = await finish(startTrainer(['--trainer', 'xgboost'], contractEnv(2, params)))
    expect(second.stderr).not.toContain('Traceback')
    expect(second.code).toBe(0)
    const log = uploaded(2).get('train.log')!.toString()
    expect(log).toContain('resuming from the checkpoint at round 40')
    const attempt2 = api.heartbeats.filter((h) => h.attempt === 2 && h.iteration > 0)
    expect(Math.min(...attempt2.map((h) => h.iteration))).toBeGreaterThan(40)
    const metrics = JSON.parse(uploaded(2).get('metrics.json')!.toString()) as {
      iterations: Record<string, number>
    }
    expect(metrics.iterations).toMatchObject({ completed: 300, resumed_from: 40 })

    // The same training without interruption (local mode, same bytes, same parameters).
    const whole = await trainLocally('xgboost', moviesCsv, join(work, 'whole'), params)
    expect(whole.code).toBe(0)
    const expected = readSample(join(work, 'whole'))
    const resumed = uploaded(2)
      .get('predictions-sample.jsonl')!
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { row: number; outputs: { predictions: number } })
    expect(resumed.map((r) => r.row)).toEqual(expected.map((r) => r.row))
    for (const [i, r] of resumed.entries()) {
      expect(
        Math.abs(r.outputs.predictions - expected[i]!.outputs.predictions!),
      ).toBeLessThanOrEqual(1e-6)
    }
  })

  test('a dataset whose SHA-256 differs from the version’s is a crash (retried), not a user error', async () => {
    const env = {
      ...contractEnv(8, { target: 'IMDB Rating' }),
      ARGMAX_DATASET_SHA256: '0'.repeat(64),
    }
    const exit = await finish(startTrainer(['--trainer', 'xgboost'], env))
    expect(exit.code).toBe(1)
    expect(exit.events.at(-1)).toMatchObject({ event: 'error', kind: 'crash' })
    expect(String(exit.events.at(-1)!.message)).toMatch(
      /^the dataset's SHA-256 is [0-9a-f]{64}, the run expects 0{64}$/,
    )
    expect(uploaded(8).names).toEqual(['train.log'])
  })

  test('a bad parameter: exit 2, the JSON error line, the log uploaded, nothing else', async () => {
    const exit = await finish(
      startTrainer(
        ['--trainer', 'xgboost'],
        contractEnv(7, { target: 'IMDB Rating', params: { eta: 3 } }),
      ),
    )
    expect(exit.code).toBe(2)
    expect(exit.events.at(-1)).toMatchObject({ kind: 'user_error', parameter: 'params.eta' })
    expect(uploaded(7).names).toEqual(['train.log'])
    expect(api.heartbeats.filter((h) => h.attempt === 7).at(-1)!.message).toContain("'params.eta'")
  })
})
