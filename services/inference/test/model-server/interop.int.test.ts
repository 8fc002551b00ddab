import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { INFERENCE_PROTO_PATH } from '@argmax/proto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  LINEAR_SIGNATURE,
  MIXED_SIGNATURE,
  SYSTEM_PYTHON,
  mixedExpected,
  writeTestModels,
} from '@argmax/testkit/onnx-models'
import { linearConfig, startHarness, type Harness } from './support/harness.ts'

const clientScript = fileURLToPath(new URL('./support/v2_client.py', import.meta.url))

let h: Harness
let stubs: string

beforeAll(async () => {
  // The client is generated from the public proto at test time, as any v2 user would.
  stubs = await mkdtemp(join(tmpdir(), 'argmax-v2-stubs-'))
  await promisify(execFile)(SYSTEM_PYTHON, [
    '-m',
    'grpc_tools.protoc',
    `-I${dirname(INFERENCE_PROTO_PATH)}`,
    `--python_out=${stubs}`,
    `--grpc_python_out=${stubs}`,
    INFERENCE_PROTO_PATH,
  ]).catch((error: Error) => {
    throw new Error(
      `generating the Python v2 client needs Debian's python3-grpc-tools (run 'bash scripts/bootstrap.sh'): ${error.message}`,
    )
  })
  const models = await writeTestModels([100])
  h = await startHarness()
  const mixed = await h.upload('mixed/model.onnx', models.mixed.bytes)
  const linear = await h.upload('linear/model.onnx', models.linear.get(100)!.bytes)
  await h.load('mixed', '3', linearConfig(mixed, MIXED_SIGNATURE))
  await h.load('linear', '1', linearConfig(linear, LINEAR_SIGNATURE))
})
afterAll(async () => {
  await h?.stop()
  if (stubs) await rm(stubs, { recursive: true, force: true })
})

interface Tensor {
  name: string
  datatype: string
  shape: number[]
  data: (number | string | null)[]
}

function pythonInfer(
  request: unknown,
): Promise<{ model_name: string; model_version: string; outputs: Tensor[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, [clientScript, stubs, h.server.grpcAddress, h.tokens.user])
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout))
        : reject(new Error(`python client exited ${code}: ${stderr}`)),
    )
    child.stdin.end(JSON.stringify(request))
  })
}

async function restInfer(path: string, inputs: Tensor[]) {
  const response = await h.rest(path, {
    method: 'POST',
    body: JSON.stringify({ inputs }),
    token: h.tokens.user,
  })
  expect(response.status).toBe(200)
  return (await response.json()) as { model_name: string; model_version: string; outputs: Tensor[] }
}

describe('a Python client generated from the public v2 proto', () => {
  it('calls ModelInfer with raw BYTES and FP32 tensors and gets what the REST form answers', async () => {
    const inputs: Tensor[] = [
      {
        name: 'genre',
        datatype: 'BYTES',
        shape: [4],
        data: ['Drama', 'Comedy', 'Horror', 'Drama'],
      },
      { name: 'budget', datatype: 'FP32', shape: [4], data: [12.5, null, 3, 0.1] },
    ]
    const python = await pythonInfer({ model_name: 'mixed', model_version: '3', inputs })
    const rest = await restInfer('/v2/models/mixed/versions/3/infer', inputs)
    expect(python).toEqual(rest)
    expect(python.outputs[0]!.data).toEqual(
      ['Drama', 'Comedy', 'Horror', 'Drama'].map((genre, i) =>
        mixedExpected(genre, [12.5, Number.NaN, 3, 0.1][i]!),
      ),
    )
    expect(python.outputs[0]!.shape).toEqual([4, 1])
  })

  it('reaches the highest version when it names none, like the REST form', async () => {
    const inputs: Tensor[] = [
      { name: 'x1', datatype: 'FP32', shape: [2], data: [1, null] },
      { name: 'x2', datatype: 'FP32', shape: [2], data: [2, 3] },
    ]
    const python = await pythonInfer({ model_name: 'linear', model_version: '', inputs })
    expect(python).toEqual(await restInfer('/v2/models/linear/infer', inputs))
    expect(python).toMatchObject({ model_version: '1', outputs: [{ data: [108, 109] }] })
  })
})
