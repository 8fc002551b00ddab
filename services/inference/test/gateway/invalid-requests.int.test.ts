import { gzipSync } from 'node:zlib'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LINEAR_SIGNATURE, MIXED_SIGNATURE, writeTestModels } from '@argmax/testkit/onnx-models'
import { tritonRequest } from '../model-server/support/triton-http.ts'
import { fp32Bytes, startGatewayHarness, type GatewayHarness } from './support/gateway-harness.ts'

let h: GatewayHarness

beforeAll(async () => {
  const models = await writeTestModels([1])
  h = await startGatewayHarness()
  await h.registry.registerVersion('linear', 1, models.linear.get(1)!.bytes, LINEAR_SIGNATURE)
  await h.registry.registerVersion('mixed', 1, models.mixed.bytes, MIXED_SIGNATURE)
  await h.registry.release('linear', { stable: 1 })
  await h.registry.release('mixed', { stable: 1 })
  await h.waitServing('linear')
  await h.waitServing('mixed')
})
afterAll(() => h?.stop())

const fp32 = (name: string, data: unknown[], shape = [data.length]) => ({
  name,
  datatype: 'FP32',
  shape,
  data,
})
const inferCalls = async () => {
  let total = 0
  for (const server of h.modelServers) total += await server.inferCalls()
  return total
}

/** REST v2 bodies the gateway must refuse, each with the field it names. */
const restCases: Array<[string, string, unknown, number, string]> = [
  ['missing input', 'linear', { inputs: [fp32('x1', [1])] }, 400, 'inputs/x2: is required'],
  [
    'extra input',
    'linear',
    { inputs: [fp32('x1', [1]), fp32('x2', [1]), fp32('x3', [1])] },
    400,
    'inputs/x3: is not an input of this model',
  ],
  [
    'wrong datatype',
    'linear',
    { inputs: [{ name: 'x1', datatype: 'INT32', shape: [1], data: [1] }, fp32('x2', [1])] },
    400,
    'inputs/x1: datatype is INT32; the model takes FP32',
  ],
  [
    'unknown datatype',
    'linear',
    { inputs: [{ name: 'x1', datatype: 'FLOAT', shape: [1], data: [1] }, fp32('x2', [1])] },
    400,
    'inputs/x1: datatype "FLOAT" is not a v2 datatype',
  ],
  [
    'wrong shape',
    'linear',
    { inputs: [fp32('x1', [1, 2], [2, 1]), fp32('x2', [1, 2])] },
    400,
    'inputs/x1: shape [2, 1] has 2 dimensions; the model takes [-1]',
  ],
  [
    'rows disagree',
    'linear',
    { inputs: [fp32('x1', [1, 2]), fp32('x2', [1, 2, 3])] },
    400,
    'inputs/x2: has 3 rows where the other inputs have 2',
  ],
  [
    'null in a non-nullable input',
    'linear',
    { inputs: [fp32('x1', [1, 2]), fp32('x2', [1, null])] },
    400,
    'inputs/x2: row 1 is missing (NaN/null) but the input is not nullable',
  ],
  [
    'data not matching the shape',
    'linear',
    { inputs: [fp32('x1', [1, 2], [3]), fp32('x2', [1, 2, 3])] },
    400,
    'inputs/x1: data holds 2 values; the shape needs 3',
  ],
  [
    'a string in an FP32 input',
    'linear',
    { inputs: [fp32('x1', ['a']), fp32('x2', [1])] },
    400,
    'inputs/x1: element 0 is "a"; FP32 needs a number or null',
  ],
  [
    'unknown output',
    'linear',
    { inputs: [fp32('x1', [1]), fp32('x2', [1])], outputs: [{ name: 'z' }] },
    400,
    'outputs/z: is not an output of this model',
  ],
  [
    "Triton's classification extension asked of an output",
    'linear',
    {
      inputs: [fp32('x1', [1]), fp32('x2', [1])],
      outputs: [{ name: 'y', parameters: { classification: 2 } }],
    },
    400,
    "outputs/y: asks for classification (Triton's classification extension), which is not served",
  ],
  [
    'unknown category in a non-nullable input',
    'mixed',
    {
      inputs: [
        { name: 'genre', datatype: 'BYTES', shape: [2], data: ['Drama', 'Western'] },
        fp32('budget', [1, 2]),
      ],
    },
    400,
    'inputs/genre: row 1 is "Western", not one of the model\'s categories (Drama, Comedy)',
  ],
  [
    'empty string in a non-nullable input',
    'mixed',
    { inputs: [{ name: 'genre', datatype: 'BYTES', shape: [1], data: [''] }, fp32('budget', [1])] },
    400,
    'inputs/genre: row 0 is missing (an empty string)',
  ],
  [
    'an unknown field',
    'linear',
    { inputs: [fp32('x1', [1]), fp32('x2', [1])], extra: 1 },
    400,
    '/extra is not allowed',
  ],
  ['no inputs', 'linear', { inputs: [] }, 400, '/inputs must NOT have fewer than 1 items'],
  [
    'unknown model',
    'nope',
    { inputs: [fp32('x1', [1]), fp32('x2', [1])] },
    404,
    'model nope not found',
  ],
]

describe('invalid requests never reach a model server', () => {
  it.each(restCases)('REST v2: %s', async (_case, model, body, expected, message) => {
    const before = await inferCalls()
    const answer = await h.rest<{ detail: string; error: string }>(
      'POST',
      `/v2/models/${model}/infer`,
      h.tokens.alice,
      body,
    )
    expect(answer.status).toBe(expected)
    expect(answer.body.detail).toContain(message)
    expect(answer.body.error).toBe(answer.body.detail)
    expect(await inferCalls()).toBe(before)
  })

  it.each([
    [
      'an input the model does not take',
      [{ x1: 1, x2: 1, x3: 2 }],
      'instances/0/x3: is not an input of this model',
    ],
    [
      'text in a numeric input',
      [
        { x1: 1, x2: 1 },
        { x1: 'high', x2: 1 },
      ],
      'instances/1/x1: is "high"; the input takes a number',
    ],
    [
      'a missing non-nullable value',
      [{ x1: 1 }],
      'inputs/x2: row 0 is missing (NaN/null) but the input is not nullable',
    ],
    [
      'a list of values of the wrong length',
      [[1, 2], [1]],
      'instances/1: has 1 value; this model takes 2, in this order: x1, x2',
    ],
    // A bare value is a list of one (Fastify's schema coercion; TF Serving's row form for a
    // model of one input): this model takes two.
    [
      'a bare value for a model of two inputs',
      [5],
      'instances/0: has 1 value; this model takes 2, in this order: x1, x2',
    ],
  ])(':predict: %s', async (_case, instances, message) => {
    const before = await inferCalls()
    const answer = await h.rest<{ detail: string }>(
      'POST',
      '/v1/models/linear:predict',
      h.tokens.alice,
      { instances },
    )
    expect(answer.status).toBe(400)
    expect(answer.body.detail).toContain(message)
    expect(await inferCalls()).toBe(before)
  })

  it('refuses an oversized body before reading it (413), and malformed JSON (400)', async () => {
    const before = await inferCalls()
    const big = 'x'.repeat(h.config.inference.maxMessageBytes + 1)
    const tooLarge = await h.rest<{ detail: string }>(
      'POST',
      '/v2/models/linear/infer',
      h.tokens.alice,
      big,
      {
        'content-type': 'application/json',
      },
    )
    expect(tooLarge.status).toBe(413)
    expect(tooLarge.body.detail).toContain(
      `the limit is ${h.config.inference.maxMessageBytes} bytes`,
    )
    const predictTooLarge = await h.rest('POST', '/v1/models/linear:predict', h.tokens.alice, big, {
      'content-type': 'application/json',
    })
    expect(predictTooLarge.status).toBe(413)
    const malformed = await h.rest(
      'POST',
      '/v2/models/linear/infer',
      h.tokens.alice,
      '{"inputs": [',
      {
        'content-type': 'application/json',
      },
    )
    expect(malformed.status).toBe(400)
    expect(await inferCalls()).toBe(before)
  })

  it('REST v2 binary tensor data: each malformed or oversized binary body is refused, never forwarded', async () => {
    const before = await inferCalls()
    const { body, headers } = tritonRequest([
      { name: 'x1', datatype: 'FP32', shape: [2], bytes: fp32Bytes([1, 2]) },
      { name: 'x2', datatype: 'FP32', shape: [2], bytes: fp32Bytes([3, Number.NaN]) },
    ])
    const limit = h.config.inference.maxMessageBytes
    const cases: Array<[string, Buffer, Record<string, string>, number, string]> = [
      [
        'a NaN in a binary non-nullable input',
        body,
        headers,
        400,
        'inputs/x2: row 1 is missing (NaN/null) but the input is not nullable',
      ],
      [
        'binary data cut short',
        body.subarray(0, body.byteLength - 1),
        headers,
        400,
        'inputs/x2: declares binary_data_size 8 but only 7 bytes of binary data remain',
      ],
      [
        'a JSON length past the body',
        body,
        { 'inference-header-content-length': '99999' },
        400,
        'header/inference-header-content-length: is "99999"',
      ],
      [
        'a JSON length that cuts the JSON',
        body,
        { 'inference-header-content-length': '10' },
        400,
        'body: its first 10 bytes (inference-header-content-length) are not valid JSON',
      ],
      [
        'a gzip body that inflates past the limit',
        gzipSync(Buffer.alloc(limit + 1)),
        { 'content-encoding': 'gzip' },
        413,
        `inflates past the limit of ${limit} bytes`,
      ],
      [
        'a body over the limit, binary',
        Buffer.alloc(limit + 1),
        headers,
        413,
        `the limit is ${limit} bytes`,
      ],
    ]
    for (const [name, payload, extraHeaders, expected, message] of cases) {
      const answer = await h.gateway.app.inject({
        method: 'POST',
        url: '/v2/models/linear/infer',
        headers: { authorization: `Bearer ${h.tokens.alice}`, ...extraHeaders },
        payload,
      })
      expect(answer.statusCode, name).toBe(expected)
      expect(answer.json<{ detail: string }>().detail, name).toContain(message)
    }
    expect(await inferCalls()).toBe(before)
  })

  it('gRPC: each malformed ModelInfer is INVALID_ARGUMENT naming the input, oversized RESOURCE_EXHAUSTED', async () => {
    const before = await inferCalls()
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [
        {
          model_name: 'linear',
          inputs: [{ name: 'x1', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
        },
        status.INVALID_ARGUMENT,
        'inputs/x2: is required',
      ],
      [
        {
          model_name: 'linear',
          inputs: [
            { name: 'x1', datatype: 'FP32', shape: [2] },
            { name: 'x2', datatype: 'FP32', shape: [2] },
          ],
          raw_input_contents: [fp32Bytes([1, 2]), fp32Bytes([1])],
        },
        status.INVALID_ARGUMENT,
        'inputs/x2: raw contents hold 4 bytes; 2 FP32 elements need 8',
      ],
      [
        {
          model_name: 'linear',
          inputs: [
            { name: 'x1', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
            { name: 'x2', datatype: 'FP32', shape: [1], contents: { fp32_contents: [Number.NaN] } },
          ],
        },
        status.INVALID_ARGUMENT,
        'inputs/x2: row 0 is missing (NaN/null) but the input is not nullable',
      ],
      [
        {
          model_name: 'linear',
          inputs: [
            { name: 'x1', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
            { name: 'x2', datatype: 'FP64', shape: [1], contents: { fp64_contents: [1] } },
          ],
        },
        status.INVALID_ARGUMENT,
        'inputs/x2: datatype is FP64; the model takes FP32',
      ],
      // Messages and names beyond ASCII: grpc-js refuses them in metadata as they are, and
      // the call was never answered (the process saw an unhandled error).
      [
        {
          model_name: 'linear',
          inputs: [
            { name: 'x1', datatype: 'FP32', shape: [-1], contents: { fp32_contents: [1] } },
            { name: 'x2', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
          ],
        },
        status.INVALID_ARGUMENT,
        'inputs/x1: shape [-1] must hold whole numbers ≥ 0',
      ],
      [
        {
          model_name: 'linear',
          inputs: [
            { name: 'x1', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
            { name: 'x2', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
            { name: 'Título', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
          ],
        },
        status.INVALID_ARGUMENT,
        'inputs/Título',
      ],
      [
        {
          model_name: 'linear',
          inputs: [
            { name: 'x1', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
            { name: 'x2', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
          ],
          outputs: [{ name: 'y', parameters: { classification: { int64_param: 2 } } }],
        },
        status.INVALID_ARGUMENT,
        "outputs/y: asks for classification (Triton's classification extension)",
      ],
      [{ model_name: 'nope', inputs: [] }, status.NOT_FOUND, 'model nope not found'],
      [
        {
          model_name: 'linear',
          inputs: [{ name: 'x1', datatype: 'FP32', shape: [1] }],
          raw_input_contents: [Buffer.alloc(h.config.inference.maxMessageBytes + 10)],
        },
        status.RESOURCE_EXHAUSTED,
        '',
      ],
    ]
    for (const [request, code, message] of cases) {
      const failure = (await h.grpc.call('ModelInfer', request).catch((e: unknown) => e)) as {
        code: number
        details: string
        metadata?: { get(key: string): unknown[] }
      }
      expect(failure.code, message).toBe(code)
      expect(failure.details).toContain(message)
      if (code === status.INVALID_ARGUMENT) {
        const fields = failure.metadata!.get('argmax-field') as string[]
        expect(fields.map((field) => decodeURIComponent(field)).join('\n')).toContain(message)
      }
    }
    expect(await inferCalls()).toBe(before)
  })

  it('keeps serving afterwards: the process survived every case', async () => {
    const answer = await h.rest('POST', '/v2/models/linear/infer', h.tokens.alice, {
      inputs: [fp32('x1', [1]), fp32('x2', [1])],
    })
    expect(answer.status).toBe(200)
    expect(await inferCalls()).toBeGreaterThan(0)
  })
})
