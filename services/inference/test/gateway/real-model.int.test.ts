import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { INFERENCE_PROTO_PATH } from '@argmax/proto'
import { verifyPredictionId, type ModelSignature } from '@argmax/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM_PYTHON } from '@argmax/testkit/onnx-models'
import { startGatewayHarness, type GatewayHarness } from './support/gateway-harness.ts'

/**
 * A real model end to end: the built-in XGBoost trainer (train.py, local mode) trains on the
 * vega-datasets movies for their IMDB rating; its model.onnx and schema.json are registered the
 * way the registry does (events referencing S3 objects) and released. The gateway must answer
 * the trainer's own predictions (its predictions-sample.jsonl), over REST and over gRPC from a
 * Python client generated from the public v2 proto — as tritonclient talks.
 */
const trainPy = fileURLToPath(new URL('../../../training/trainers/train.py', import.meta.url))
const grpcClient = fileURLToPath(new URL('../model-server/support/v2_client.py', import.meta.url))
const httpClient = fileURLToPath(
  new URL('../model-server/support/triton_http_client.py', import.meta.url),
)

interface SampleLine {
  row: number
  inputs: Record<string, number | string | null>
  outputs: { predictions: number }
  target: number
}

let h: GatewayHarness
let signature: ModelSignature
let sample: SampleLine[]
let stubs: string

/** Temporary directories of the file, removed after it. */
const temporary: string[] = []

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'argmax-movies-'))
  temporary.push(dir)
  const data = join(
    dirname(createRequire(import.meta.url).resolve('vega-datasets')),
    '..',
    'data',
    'movies.json',
  )
  const rows = JSON.parse(await readFile(data, 'utf8')) as object[]
  await writeFile(
    join(dir, 'movies.jsonl'),
    rows.map((row) => JSON.stringify(row)).join('\n') + '\n',
  )
  await promisify(execFile)(
    SYSTEM_PYTHON,
    [
      trainPy,
      '--trainer',
      'xgboost',
      '--dataset',
      join(dir, 'movies.jsonl'),
      '--output',
      join(dir, 'out'),
      '--params',
      JSON.stringify({ target: 'IMDB Rating', seed: 1 }),
    ],
    { maxBuffer: 64 << 20 },
  )
  signature = JSON.parse(await readFile(join(dir, 'out', 'schema.json'), 'utf8')) as ModelSignature
  sample = (await readFile(join(dir, 'out', 'predictions-sample.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as SampleLine)

  stubs = await mkdtemp(join(tmpdir(), 'argmax-v2-stubs-'))
  temporary.push(stubs)
  await promisify(execFile)(SYSTEM_PYTHON, [
    '-m',
    'grpc_tools.protoc',
    `-I${dirname(INFERENCE_PROTO_PATH)}`,
    `--python_out=${stubs}`,
    `--grpc_python_out=${stubs}`,
    INFERENCE_PROTO_PATH,
  ])

  h = await startGatewayHarness({ listen: true })
  await h.registry.registerVersion(
    'movies',
    1,
    await readFile(join(dir, 'out', 'model.onnx')),
    signature,
  )
  await h.registry.release('movies', { stable: 1 })
  await h.waitServing('movies')
}, 300_000)
afterAll(async () => {
  await h?.stop()
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })))
})

interface PythonAnswer {
  model_version: string
  id: string
  parameters: { prediction_ids: string }
  outputs: { name: string; shape: number[]; data: number[] }[]
}

/** The generated gRPC client's answer (`v2_client.py`), its messages compressed when asked. */
const grpcInfer = (request: unknown, compression: 'gzip' | 'deflate' | '' = '') =>
  runPython(
    [grpcClient, stubs, h.gateway.workers.grpc.address, h.tokens.alice, compression],
    request,
  )

/** The answer of a client that talks REST as tritonclient.http does (`triton_http_client.py`). */
const httpInfer = (request: unknown) =>
  runPython([httpClient, h.gateway.url!, h.tokens.alice], request)

function runPython(args: string[], request: unknown): Promise<PythonAnswer> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, args)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout))
        : reject(new Error(`python client exited ${code}: ${stderr}`)),
    )
    child.stdin.end(JSON.stringify(request))
  })
}

/** The sample's inputs as v2 tensors: null is NaN for FP32, "" for BYTES (the trainer's missing). */
function tensorsOf(lines: SampleLine[]) {
  return signature.inputs.map((spec) => ({
    name: spec.name,
    datatype: spec.datatype,
    shape: [lines.length],
    data: lines.map((line) => {
      const value = line.inputs[spec.name] ?? null
      return spec.datatype === 'BYTES' ? (value ?? '') : value
    }),
  }))
}

describe('the gateway with a model the built-in trainer made', () => {
  it("answers :predict with the trainer's own predictions", async () => {
    const answer = await h.rest<{ predictions: number[]; predictionIds: string[] }>(
      'POST',
      '/v1/models/movies:predict',
      h.tokens.alice,
      {
        instances: sample.map((line) => line.inputs),
      },
    )
    expect(answer.status).toBe(200)
    expect(answer.body.predictions).toHaveLength(sample.length)
    sample.forEach((line, i) =>
      expect(answer.body.predictions[i]).toBeCloseTo(line.outputs.predictions, 4),
    )
    expect(
      answer.body.predictionIds.every((id) => verifyPredictionId(h.predictionIdSecret, id).ok),
    ).toBe(true)
  })

  it('answers a Python client generated from the public proto exactly as the REST form', async () => {
    const lines = sample.slice(0, 25)
    const inputs = tensorsOf(lines)
    const python = await grpcInfer({
      model_name: 'movies',
      model_version: '',
      id: 'py-1',
      inputs,
    })
    const rest = await h.rest<{
      model_version: string
      id: string
      outputs: unknown[]
      parameters: { prediction_ids: string }
    }>('POST', '/v2/models/movies/infer', h.tokens.alice, { id: 'rest-1', inputs })
    expect(rest.status).toBe(200)
    expect(python.outputs).toEqual(rest.body.outputs)
    expect(python.model_version).toBe(rest.body.model_version)
    expect(python.id).toBe('py-1')
    // Each answer has its own prediction ids, one per row.
    expect(python.parameters.prediction_ids.split(',')).toHaveLength(lines.length)
    expect(rest.body.parameters.prediction_ids.split(',')).toHaveLength(lines.length)
    lines.forEach((line, i) =>
      expect(python.outputs[0]!.data[i]).toBeCloseTo(line.outputs.predictions, 4),
    )
  })

  it("takes the client's compressed messages (gzip, deflate) and answers as to plain ones", async () => {
    const request = { model_name: 'movies', model_version: '1', inputs: tensorsOf(sample) }
    const [plain, gzip, deflate] = await Promise.all([
      grpcInfer(request),
      grpcInfer(request, 'gzip'),
      grpcInfer(request, 'deflate'),
    ])
    expect(gzip.outputs).toEqual(plain.outputs)
    expect(deflate.outputs).toEqual(plain.outputs)
  })
})

describe('the gateway and a tritonclient.http-style client (binary tensors, no Content-Type)', () => {
  it("answers the trainer's predictions, as over gRPC", async () => {
    const lines = sample.slice(0, 25)
    const request = {
      model_name: 'movies',
      model_version: '1',
      id: 'http-1',
      inputs: tensorsOf(lines),
    }
    const [http, grpc] = await Promise.all([httpInfer(request), grpcInfer(request)])
    expect(http.outputs).toEqual(grpc.outputs)
    expect(http.model_version).toBe('1')
    expect(http.id).toBe('http-1')
    expect(http.parameters.prediction_ids.split(',')).toHaveLength(lines.length)
    lines.forEach((line, i) =>
      expect(http.outputs[0]!.data[i]).toBeCloseTo(line.outputs.predictions, 4),
    )
  })
})
