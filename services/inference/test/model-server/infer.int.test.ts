import { gzipSync } from 'node:zlib'
import { status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  LINEAR_SIGNATURE,
  MIXED_SIGNATURE,
  linearExpected,
  mixedExpected,
  writeTestModels,
} from '@argmax/testkit/onnx-models'
import {
  bytesElements,
  fp32Bytes,
  linearConfig,
  readFp32,
  startHarness,
  type Harness,
} from './support/harness.ts'
import { readTritonAnswer, tritonRequest, type BinaryInput } from './support/triton-http.ts'

let h: Harness

beforeAll(async () => {
  const models = await writeTestModels([0.5, 100])
  h = await startHarness()
  const v1 = await h.upload('linear/1/model.onnx', models.linear.get(0.5)!.bytes)
  const v2 = await h.upload('linear/2/model.onnx', models.linear.get(100)!.bytes)
  const mixed = await h.upload('mixed/7/model.onnx', models.mixed.bytes)
  await h.load('linear', '1', linearConfig(v1, LINEAR_SIGNATURE))
  await h.load('linear', '2', linearConfig(v2, LINEAR_SIGNATURE))
  await h.load('mixed', '7', linearConfig(mixed, MIXED_SIGNATURE))
})
afterAll(() => h?.stop())

interface OutputTensor {
  name: string
  datatype: string
  shape: string[]
  contents: { fp32_contents: number[] } | null
}
interface InferResponse {
  model_name: string
  model_version: string
  id: string
  outputs: OutputTensor[]
  raw_output_contents: Buffer[]
}

const infer = (request: Record<string, unknown>, token?: string) =>
  h.grpc.call<InferResponse>('ModelInfer', request, token ? { token } : {})

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise
  } catch (error) {
    return error as ServiceError
  }
  throw new Error('expected the call to fail')
}

const x1 = [1, Number.NaN, -2.5]
const x2 = [0.5, 4, 10]

function typedLinear(version: string) {
  return {
    model_name: 'linear',
    model_version: version,
    id: `typed-${version}`,
    inputs: [
      { name: 'x1', datatype: 'FP32', shape: [3], contents: { fp32_contents: x1 } },
      { name: 'x2', datatype: 'FP32', shape: [3], contents: { fp32_contents: x2 } },
    ],
  }
}

function rawLinear(version: string) {
  return {
    model_name: 'linear',
    model_version: version,
    id: `raw-${version}`,
    inputs: [
      { name: 'x1', datatype: 'FP32', shape: [3] },
      { name: 'x2', datatype: 'FP32', shape: [3] },
    ],
    outputs: [{ name: 'y' }],
    raw_input_contents: [fp32Bytes(x1), fp32Bytes(x2)],
  }
}

const expected = (intercept: number) => x1.map((a, i) => linearExpected(a, x2[i]!, intercept))

describe('ModelInfer', () => {
  it('answers typed contents for typed inputs, per version', async () => {
    const response = await infer(typedLinear('1'))
    expect(response).toMatchObject({ model_name: 'linear', model_version: '1', id: 'typed-1' })
    expect(response.outputs).toEqual([
      {
        name: 'y',
        datatype: 'FP32',
        shape: ['3', '1'],
        contents: expect.anything(),
        parameters: {},
      },
    ])
    expect(response.outputs[0]!.contents!.fp32_contents).toEqual(expected(0.5))
    expect(response.raw_output_contents).toEqual([])
  })

  it('answers raw_output_contents for raw inputs, as tritonclient expects', async () => {
    const response = await infer(rawLinear('2'))
    expect(response).toMatchObject({ model_name: 'linear', model_version: '2', id: 'raw-2' })
    expect(response.outputs).toEqual([
      { name: 'y', datatype: 'FP32', shape: ['3', '1'], contents: null, parameters: {} },
    ])
    expect(readFp32(response.raw_output_contents[0]!)).toEqual(expected(100))
  })

  it('serves several versions side by side and picks the highest when none is named', async () => {
    const [one, two, latest] = await Promise.all([
      infer(rawLinear('1')),
      infer(rawLinear('2')),
      infer(rawLinear('')),
    ])
    expect(readFp32(one.raw_output_contents[0]!)).toEqual(expected(0.5))
    expect(readFp32(two.raw_output_contents[0]!)).toEqual(expected(100))
    expect(latest.model_version).toBe('2')
    expect(readFp32(latest.raw_output_contents[0]!)).toEqual(expected(100))
  })

  it('takes BYTES inputs typed and raw (4-byte length prefixes)', async () => {
    const genre = ['Drama', 'Comedy', 'Wéstern']
    const budget = [10, Number.NaN, 3]
    const want = genre.map((g, i) => mixedExpected(g, budget[i]!))
    const typed = await infer({
      model_name: 'mixed',
      inputs: [
        {
          name: 'genre',
          datatype: 'BYTES',
          shape: [3],
          contents: { bytes_contents: genre.map((g) => Buffer.from(g)) },
        },
        { name: 'budget', datatype: 'FP32', shape: [3], contents: { fp32_contents: budget } },
      ],
    })
    expect(typed.outputs[0]!.contents!.fp32_contents).toEqual(want)
    const raw = await infer({
      model_name: 'mixed',
      model_version: '7',
      inputs: [
        { name: 'genre', datatype: 'BYTES', shape: [3] },
        { name: 'budget', datatype: 'FP32', shape: [3] },
      ],
      raw_input_contents: [bytesElements(genre), fp32Bytes(budget)],
    })
    expect(readFp32(raw.raw_output_contents[0]!)).toEqual(want)
  })

  describe('refuses invalid requests with INVALID_ARGUMENT naming the input, before the model', () => {
    const linear = (inputs: unknown[], raw?: Buffer[]) => ({
      model_name: 'linear',
      model_version: '1',
      inputs,
      ...(raw ? { raw_input_contents: raw } : {}),
    })
    const fp32 = (name: string, values: number[], shape = [values.length]) => ({
      name,
      datatype: 'FP32',
      shape,
      contents: { fp32_contents: values },
    })
    const cases: [string, Record<string, unknown>, string][] = [
      ['a missing input', linear([fp32('x1', [1])]), 'inputs/x2: is required (FP32 [-1])'],
      [
        'an unknown input',
        linear([fp32('x1', [1]), fp32('x2', [1]), fp32('x3', [1])]),
        'inputs/x3: is not an input of this model (its inputs: x1, x2)',
      ],
      [
        'a wrong datatype',
        linear([
          { name: 'x1', datatype: 'FP64', shape: [1], contents: { fp64_contents: [1] } },
          fp32('x2', [1]),
        ]),
        'inputs/x1: datatype is FP64; the model takes FP32',
      ],
      [
        'a datatype v2 does not have',
        linear([{ ...fp32('x1', [1]), datatype: 'FLOAT' }, fp32('x2', [1])]),
        'inputs/x1: datatype "FLOAT" is not a v2 datatype; the model takes FP32',
      ],
      [
        'a wrong rank',
        linear([fp32('x1', [1], [1, 1]), fp32('x2', [1])]),
        'inputs/x1: shape [1, 1] has 2 dimensions; the model takes [-1]',
      ],
      [
        'inputs of different row counts',
        linear([fp32('x1', [1, 2]), fp32('x2', [1])]),
        'inputs/x2: has 1 rows where the other inputs have 2',
      ],
      [
        'typed contents that do not fill the shape',
        linear([fp32('x1', [1]), fp32('x2', [1, 2], [1])]),
        'inputs/x2: contents.fp32_contents holds 2 values; the shape needs 1',
      ],
      [
        'values in the wrong contents field',
        linear([
          { name: 'x1', datatype: 'FP32', shape: [1], contents: { int_contents: [1] } },
          fp32('x2', [1]),
        ]),
        'inputs/x1: FP32 values belong in contents.fp32_contents, not contents.int_contents',
      ],
      [
        'a NaN in a non-nullable input',
        linear([fp32('x1', [1, 2]), fp32('x2', [1, Number.NaN])]),
        'inputs/x2: row 1 is missing (NaN/null) but the input is not nullable',
      ],
      [
        'raw contents of the wrong length',
        linear(
          [
            { name: 'x1', datatype: 'FP32', shape: [1] },
            { name: 'x2', datatype: 'FP32', shape: [1] },
          ],
          [Buffer.alloc(3), fp32Bytes([1])],
        ),
        'inputs/x1: raw contents hold 3 bytes; 1 FP32 elements need 4',
      ],
      [
        'fewer raw tensors than inputs',
        linear(
          [
            { name: 'x1', datatype: 'FP32', shape: [1] },
            { name: 'x2', datatype: 'FP32', shape: [1] },
          ],
          [fp32Bytes([1])],
        ),
        'raw_input_contents: holds 1 tensors for 2 inputs; send one per input, in order',
      ],
      [
        'raw and typed contents together',
        linear(
          [fp32('x1', [1]), { name: 'x2', datatype: 'FP32', shape: [1] }],
          [fp32Bytes([1]), fp32Bytes([1])],
        ),
        'inputs/x1: has typed contents while the request uses raw_input_contents; send one form for all inputs',
      ],
      [
        'a BYTES element longer than its bytes',
        {
          model_name: 'mixed',
          inputs: [
            { name: 'genre', datatype: 'BYTES', shape: [1] },
            { name: 'budget', datatype: 'FP32', shape: [1] },
          ],
          raw_input_contents: [
            Buffer.concat([Buffer.from([100, 0, 0, 0]), Buffer.from('ab')]),
            fp32Bytes([1]),
          ],
        },
        'inputs/genre: BYTES element 0 declares 100 bytes but only 2 remain',
      ],
      [
        'an output the model does not have',
        { ...linear([fp32('x1', [1]), fp32('x2', [1])]), outputs: [{ name: 'z' }] },
        'outputs/z: is not an output of this model (its outputs: y)',
      ],
    ]
    it.each(cases)('%s', async (_case, request, message) => {
      const runs = h.batches.length
      const error = await failure(infer(request))
      expect(error.code).toBe(status.INVALID_ARGUMENT)
      expect(error.metadata.get('argmax-field')).toEqual([message])
      expect(error.details).toContain(message)
      expect(h.batches.length).toBe(runs)
    })

    it('names every invalid input at once', async () => {
      const error = await failure(
        infer(linear([{ ...fp32('x1', [1]), datatype: 'INT32' }, fp32('x3', [1])])),
      )
      expect(error.details).toBe(
        'invalid inputs: inputs/x1: datatype is INT32; the model takes FP32; ' +
          'inputs/x3: is not an input of this model (its inputs: x1, x2); ' +
          'inputs/x2: is required (FP32 [-1])',
      )
    })
  })

  it('answers NOT_FOUND for an unknown model or version', async () => {
    const model = await failure(infer({ ...rawLinear(''), model_name: 'nope' }))
    expect([model.code, model.details]).toEqual([status.NOT_FOUND, 'model nope not found'])
    const version = await failure(infer(rawLinear('9')))
    expect([version.code, version.details]).toEqual([
      status.NOT_FOUND,
      'model version linear/9 not found',
    ])
  })
})

describe('the REST form gives the same answers as gRPC', () => {
  const jsonLinear = {
    id: 'json-1',
    inputs: [
      { name: 'x1', datatype: 'FP32', shape: [3], data: [1, null, -2.5] },
      { name: 'x2', datatype: 'FP32', shape: [3], data: [[0.5], [4], [10]] },
    ],
  }

  it('infers with JSON tensors', async () => {
    const rest = await h.rest('/v2/models/linear/versions/1/infer', {
      method: 'POST',
      body: JSON.stringify(jsonLinear),
    })
    expect(rest.status).toBe(200)
    const body = (await rest.json()) as { outputs: { data: number[] }[] }
    expect(body).toEqual({
      model_name: 'linear',
      model_version: '1',
      id: 'json-1',
      outputs: [{ name: 'y', datatype: 'FP32', shape: [3, 1], data: expected(0.5) }],
    })
    const grpc = await infer(typedLinear('1'))
    expect(body.outputs[0]!.data).toEqual(grpc.outputs[0]!.contents!.fp32_contents)

    const latest = await h.rest('/v2/models/linear/infer', {
      method: 'POST',
      body: JSON.stringify(jsonLinear),
    })
    expect(await latest.json()).toMatchObject({ model_version: '2' })
  })

  it('serves health, server and model metadata, and readiness', async () => {
    expect(await (await h.rest('/v2/health/live')).json()).toEqual({ live: true })
    expect(await (await h.rest('/v2/health/ready')).json()).toEqual({ ready: true })
    expect(await (await h.rest('/v2')).json()).toEqual(await h.grpc.call('ServerMetadata', {}))
    expect(await (await h.rest('/v2')).json()).toEqual({
      name: 'argmax-model-server',
      version: '0.1.0',
      extensions: ['model_repository', 'binary_tensor_data'],
    })
    const metadata = await (await h.rest('/v2/models/mixed/versions/7')).json()
    expect(metadata).toEqual({
      name: 'mixed',
      versions: ['7'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'genre', datatype: 'BYTES', shape: [-1] },
        { name: 'budget', datatype: 'FP32', shape: [-1] },
      ],
      outputs: [{ name: 'rating', datatype: 'FP32', shape: [-1, 1] }],
    })
    const grpc = await h.grpc.call<{ inputs: { shape: string[] }[] }>('ModelMetadata', {
      name: 'mixed',
      version: '7',
    })
    expect(grpc.inputs.map((input) => input.shape.map(Number))).toEqual([[-1], [-1]])
    expect(await (await h.rest('/v2/models/linear/ready')).json()).toEqual({
      name: 'linear',
      ready: true,
    })
  })

  it("reports Triton's model configuration of a version over REST and gRPC (BYTES is TYPE_STRING)", async () => {
    const expected = {
      name: 'mixed',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      max_batch_size: 0,
      input: [
        { name: 'genre', data_type: 'TYPE_STRING', dims: [-1] },
        { name: 'budget', data_type: 'TYPE_FP32', dims: [-1] },
      ],
      output: [{ name: 'rating', data_type: 'TYPE_FP32', dims: [-1, 1] }],
    }
    expect(await (await h.rest('/v2/models/mixed/versions/7/config')).json()).toEqual(expected)
    expect(await (await h.rest('/v2/models/mixed/config')).json()).toEqual(expected)
    const grpc = await h.grpc.call<{ config: { input: { data_type: string; dims: string[] }[] } }>(
      'ModelConfig',
      { name: 'mixed', version: '7' },
    )
    expect(grpc.config).toMatchObject({ name: 'mixed', max_batch_size: 0, backend: 'onnxruntime' })
    expect(grpc.config.input.map((i) => [i.data_type, i.dims.map(Number)])).toEqual([
      ['TYPE_STRING', [-1]],
      ['TYPE_FP32', [-1]],
    ])
    expect((await h.rest('/v2/models/mixed/versions/99/config')).status).toBe(404)
  })

  it('refuses with problem+json that names the input and carries v2 `error`', async () => {
    const bad = await h.rest('/v2/models/linear/versions/1/infer', {
      method: 'POST',
      body: JSON.stringify({
        inputs: [
          { name: 'x1', datatype: 'FP32', shape: [2], data: [1, 'two'] },
          { name: 'x2', datatype: 'FP32', shape: [2], data: [1, null] },
        ],
      }),
    })
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    const problem = (await bad.json()) as Record<string, unknown>
    expect(problem['errors']).toEqual([
      { field: 'inputs/x1', message: 'element 1 is "two"; FP32 needs a number or null' },
      {
        field: 'inputs/x2',
        message: 'row 1 is missing (NaN/null) but the input is not nullable',
      },
    ])
    expect(problem['error']).toBe(problem['detail'])

    const schema = await h.rest('/v2/models/linear/infer', {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x1', shape: [-1], data: [] }], extra: 1 }),
    })
    expect(schema.status).toBe(400)
    expect(((await schema.json()) as { errors: unknown[] }).errors).toEqual(
      expect.arrayContaining([
        { field: '/extra', message: 'is not allowed' },
        { field: '/inputs/0/datatype', message: 'is required' },
        { field: '/inputs/0/shape/0', message: 'must be >= 0' },
      ]),
    )

    const missing = await h.rest('/v2/models/nope/ready')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({
      detail: 'model nope not found',
      error: 'model nope not found',
    })
  })
})

describe("the REST form takes Triton's binary tensor data extension, as tritonclient.http sends it", () => {
  const linearInputs = (a = x1, b = x2): BinaryInput[] => [
    { name: 'x1', datatype: 'FP32', shape: [a.length], bytes: fp32Bytes(a) },
    { name: 'x2', datatype: 'FP32', shape: [b.length], bytes: fp32Bytes(b) },
  ]
  const post = (path: string, body: Buffer, headers: Record<string, string>) =>
    h.rest(path, { method: 'POST', body: new Uint8Array(body), headers })
  const problemOf = async (answer: Response) => {
    expect(answer.status).toBe(400)
    const problem = (await answer.json()) as { errors: unknown[]; error: string; detail: string }
    expect(problem.error).toBe(problem.detail)
    return problem.errors
  }

  it('answers binary inputs with binary outputs when no output is named (no Content-Type)', async () => {
    const request = tritonRequest(linearInputs(), { id: 'bin-1' })
    const answer = await post('/v2/models/linear/versions/1/infer', request.body, request.headers)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe('application/octet-stream')
    const body = Buffer.from(await answer.arrayBuffer())
    const result = readTritonAnswer(body, answer.headers.get('inference-header-content-length'))
    expect(result.json).toEqual({
      model_name: 'linear',
      model_version: '1',
      id: 'bin-1',
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [3, 1], parameters: { binary_data_size: 12 } },
      ],
    })
    expect(readFp32(result.binary.get('y')!)).toEqual(expected(0.5))
    const grpc = await infer(rawLinear('1'))
    expect(result.binary.get('y')).toEqual(Buffer.from(grpc.raw_output_contents[0]!))
  })

  it('mixes binary and JSON inputs and answers JSON outputs when asked', async () => {
    const genre = ['Drama', 'Comedy', 'Wéstern']
    const budget = [10, Number.NaN, 3]
    const genreBytes = bytesElements(genre)
    const json = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'genre',
            datatype: 'BYTES',
            shape: [3],
            parameters: { binary_data_size: genreBytes.byteLength },
          },
          { name: 'budget', datatype: 'FP32', shape: [3], data: [10, null, 3] },
        ],
        outputs: [{ name: 'rating', parameters: { binary_data: false } }],
        parameters: { binary_data_output: true },
      }),
    )
    const answer = await post('/v2/models/mixed/infer', Buffer.concat([json, genreBytes]), {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(json.byteLength),
    })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('inference-header-content-length')).toBeNull()
    const body = (await answer.json()) as { outputs: { name: string; data: number[] }[] }
    expect(body.outputs).toEqual([
      {
        name: 'rating',
        datatype: 'FP32',
        shape: [3, 1],
        data: genre.map((g, i) => mixedExpected(g, budget[i]!)),
      },
    ])
  })

  it("inflates a gzip or deflate body (tritonclient's request_compression_algorithm)", async () => {
    const request = tritonRequest(linearInputs())
    const answer = await post('/v2/models/linear/versions/2/infer', gzipSync(request.body), {
      ...request.headers,
      'content-encoding': 'gzip',
    })
    expect(answer.status).toBe(200)
    const body = Buffer.from(await answer.arrayBuffer())
    const result = readTritonAnswer(body, answer.headers.get('inference-header-content-length'))
    expect(readFp32(result.binary.get('y')!)).toEqual(expected(100))

    const brotli = await post('/v2/models/linear/infer', request.body, {
      ...request.headers,
      'content-encoding': 'br',
    })
    expect(brotli.status).toBe(415)
    expect(((await brotli.json()) as { detail: string }).detail).toBe(
      'Content-Encoding br is not supported; send gzip, deflate or identity',
    )
  })

  it('refuses binary data that does not add up, naming the input or header', async () => {
    const { body, headers } = tritonRequest(linearInputs())
    const url = '/v2/models/linear/versions/1/infer'
    const jsonLength = Number(headers['inference-header-content-length'])

    expect(
      await problemOf(await post(url, body.subarray(0, body.byteLength - 4), headers)),
    ).toEqual([
      {
        field: 'inputs/x2',
        message: 'declares binary_data_size 12 but only 8 bytes of binary data remain',
      },
    ])
    expect(
      await problemOf(await post(url, Buffer.concat([body, Buffer.alloc(3)]), headers)),
    ).toEqual([
      {
        field: 'body',
        message:
          "holds 3 bytes of binary data beyond what the inputs' binary_data_size declare (24)",
      },
    ])
    expect(await problemOf(await post(url, body.subarray(0, jsonLength), {}))).toEqual([
      {
        field: 'inputs/x1',
        message:
          'declares binary_data_size 12 but the request has no binary data (its JSON length goes in the inference-header-content-length header)',
      },
    ])
    expect(
      await problemOf(
        await post(url, body, { 'inference-header-content-length': String(body.byteLength + 1) }),
      ),
    ).toEqual([
      {
        field: 'header/inference-header-content-length',
        message: `is "${body.byteLength + 1}"; it must give the length of the JSON request in bytes, from 1 to the body's ${body.byteLength}`,
      },
    ])

    const odd = tritonRequest([
      { name: 'x1', datatype: 'FP32', shape: [3], bytes: fp32Bytes(x1).subarray(0, 11) },
      { name: 'x2', datatype: 'FP32', shape: [3], bytes: fp32Bytes(x2) },
    ])
    expect(await problemOf(await post(url, odd.body, odd.headers))).toEqual([
      { field: 'inputs/x1', message: 'raw contents hold 11 bytes; 3 FP32 elements need 12' },
    ])

    const both = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'x1',
            datatype: 'FP32',
            shape: [1],
            data: [1],
            parameters: { binary_data_size: 4 },
          },
          { name: 'x2', datatype: 'FP32', shape: [1] },
        ],
      }),
    )
    expect(
      await problemOf(
        await post(url, Buffer.concat([both, fp32Bytes([1])]), {
          'inference-header-content-length': String(both.byteLength),
        }),
      ),
    ).toEqual([
      { field: 'inputs/x1', message: 'has both data and parameters.binary_data_size; send one' },
    ])

    const neither = JSON.stringify({
      inputs: [
        { name: 'x1', datatype: 'FP32', shape: [1], data: [1] },
        { name: 'x2', datatype: 'FP32', shape: [1] },
      ],
    })
    expect(await problemOf(await post(url, Buffer.from(neither), {}))).toEqual([
      { field: 'inputs/x2', message: 'needs data, or parameters.binary_data_size and binary data' },
    ])

    const typed = JSON.stringify({
      inputs: [
        { name: 'x1', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 'four' } },
      ],
      parameters: { binary_data_output: 'yes' },
    })
    expect(await problemOf(await post(url, Buffer.from(typed), {}))).toEqual(
      expect.arrayContaining([
        { field: '/inputs/0/parameters/binary_data_size', message: 'must be integer' },
        { field: '/parameters/binary_data_output', message: 'must be boolean' },
      ]),
    )
  })
})
