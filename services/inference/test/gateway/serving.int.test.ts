import { status } from '@grpc/grpc-js'
import { verifyPredictionId } from '@argmax/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  LINEAR_SIGNATURE,
  linearExpected,
  writeTestModels,
  type TestModels,
} from '@argmax/testkit/onnx-models'
import {
  fp32Bytes,
  readFp32,
  startGatewayHarness,
  type GatewayHarness,
} from './support/gateway-harness.ts'

let h: GatewayHarness
let models: TestModels

beforeAll(async () => {
  models = await writeTestModels([1, 2, 3])
  h = await startGatewayHarness()
  for (const version of [1, 2, 3]) {
    await h.registry.registerVersion(
      'movies',
      version,
      models.linear.get(version)!.bytes,
      LINEAR_SIGNATURE,
    )
  }
  await h.registry.release('movies', { stable: 1 })
  await h.waitServing('movies')
})
afterAll(() => h?.stop())

const v2Inputs = (x1: (number | null)[], x2: number[]) => [
  { name: 'x1', datatype: 'FP32', shape: [x1.length], data: x1 },
  { name: 'x2', datatype: 'FP32', shape: [x2.length], data: x2 },
]

interface V2Answer {
  model_name: string
  model_version: string
  id: string
  parameters: { prediction_ids: string }
  outputs: { name: string; datatype: string; shape: number[]; data: number[] }[]
}

describe('the gateway serves a release', () => {
  it('answers REST v2 infer by the stable version, with a verifiable prediction id per row', async () => {
    const answer = await h.rest<V2Answer>('POST', '/v2/models/movies/infer', h.tokens.alice, {
      id: 'req-1',
      inputs: v2Inputs([1, null, 3], [1, 2, 3]),
    })
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ model_name: 'movies', model_version: '1', id: 'req-1' })
    expect(answer.body.outputs[0]).toMatchObject({ name: 'y', datatype: 'FP32', shape: [3, 1] })
    expect(answer.body.outputs[0]!.data).toEqual([
      linearExpected(1, 1, 1),
      linearExpected(Number.NaN, 2, 1),
      linearExpected(3, 3, 1),
    ])
    const ids = answer.body.parameters.prediction_ids.split(',')
    expect(ids).toHaveLength(3)
    expect(new Set(ids).size).toBe(3)
    for (const id of ids) {
      const check = verifyPredictionId(h.predictionIdSecret, id)
      expect(check).toMatchObject({ ok: true, fields: { model: 'movies', version: 1 } })
    }
    expect(verifyPredictionId('another-secret-of-at-least-32-chars!!', ids[0]!)).toEqual({
      ok: false,
      reason: 'forged',
    })
  })

  it('answers gRPC ModelInfer alike, typed or raw, with the ids in parameters.prediction_ids', async () => {
    const typed = await h.grpc.call<{
      model_version: string
      id: string
      outputs: { contents: { fp32_contents: number[] } }[]
      parameters: Record<string, { string_param: string }>
    }>('ModelInfer', {
      model_name: 'movies',
      id: 'grpc-1',
      inputs: [
        { name: 'x1', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1, 2] } },
        { name: 'x2', datatype: 'FP32', shape: [2], contents: { fp32_contents: [3, 4] } },
      ],
    })
    expect(typed.model_version).toBe('1')
    expect(typed.id).toBe('grpc-1')
    expect(typed.outputs[0]!.contents.fp32_contents).toEqual([
      linearExpected(1, 3, 1),
      linearExpected(2, 4, 1),
    ])
    expect(typed.parameters['prediction_ids']!.string_param.split(',')).toHaveLength(2)

    const raw = await h.grpc.call<{
      raw_output_contents: Buffer[]
      parameters: Record<string, { string_param: string }>
    }>('ModelInfer', {
      model_name: 'movies',
      inputs: [
        { name: 'x1', datatype: 'FP32', shape: [2] },
        { name: 'x2', datatype: 'FP32', shape: [2] },
      ],
      raw_input_contents: [fp32Bytes([1, 2]), fp32Bytes([3, 4])],
    })
    expect(readFp32(raw.raw_output_contents[0]!)).toEqual([
      linearExpected(1, 3, 1),
      linearExpected(2, 4, 1),
    ])
  })

  it('answers POST /v1/models/{name}:predict with records, predictions and ids', async () => {
    const answer = await h.rest<{
      model: string
      version: number
      predictions: number[]
      predictionIds: string[]
    }>('POST', '/v1/models/movies:predict', h.tokens.bob, {
      instances: [{ x1: 2, x2: 1 }, { x2: 5 }, { x1: null, x2: 0 }],
    })
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ model: 'movies', version: 1 })
    expect(answer.body.predictions).toEqual([
      linearExpected(2, 1, 1),
      linearExpected(Number.NaN, 5, 1),
      linearExpected(Number.NaN, 0, 1),
    ])
    expect(answer.body.predictionIds).toHaveLength(3)
  })

  it("takes KServe v1's positional instances on :predict, in the signature's input order", async () => {
    const answer = await h.rest<{ predictions: number[] }>(
      'POST',
      '/v1/models/movies:predict',
      h.tokens.bob,
      // The canonical KServe v1 body: rows as lists, here mixed with a record.
      { instances: [[2, 1], [null, 5], { x2: 0, x1: 4 }] },
    )
    expect(answer.status).toBe(200)
    expect(answer.body.predictions).toEqual([
      linearExpected(2, 1, 1),
      linearExpected(Number.NaN, 5, 1),
      linearExpected(4, 0, 1),
    ])
  })

  it('serves a version the path pins, loading it on demand', async () => {
    const url = '/v2/models/movies/versions/3/infer'
    const body = { inputs: v2Inputs([1], [1]) }
    let answer = await h.rest<V2Answer>('POST', url, h.tokens.alice, body)
    for (let i = 0; answer.status === 503 && i < 200; i++) {
      expect(answer.headers['retry-after']).toBeDefined()
      await new Promise((resolve) => setTimeout(resolve, 100))
      answer = await h.rest<V2Answer>('POST', url, h.tokens.alice, body)
    }
    expect(answer.status).toBe(200)
    expect(answer.body.model_version).toBe('3')
    expect(answer.body.outputs[0]!.data).toEqual([linearExpected(1, 1, 3)])
    expect(
      verifyPredictionId(h.predictionIdSecret, answer.body.parameters.prediction_ids),
    ).toMatchObject({
      fields: { version: 3 },
    })
  })

  it('describes the model from the served version signature', async () => {
    const rest = await h.rest('GET', '/v2/models/movies', h.tokens.analyst)
    expect(rest.status).toBe(200)
    expect(rest.body).toMatchObject({
      name: 'movies',
      versions: ['1'],
      inputs: [
        { name: 'x1', datatype: 'FP32', shape: [-1] },
        { name: 'x2', datatype: 'FP32', shape: [-1] },
      ],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
    })
    const grpc = await h.grpc.call<{ inputs: { name: string }[] }>('ModelMetadata', {
      name: 'movies',
      version: '',
    })
    expect(grpc.inputs.map((i) => i.name)).toEqual(['x1', 'x2'])
    expect(await h.grpc.call('ServerReady', {})).toEqual({ ready: true })
    const server = await h.rest('GET', '/v2', h.tokens.analyst)
    expect(server.body).toMatchObject({ extensions: ['binary_tensor_data'] })
    expect(await h.grpc.call('ServerMetadata', {})).toEqual(server.body)
    expect(await h.grpc.call('ModelReady', { name: 'movies', version: '' })).toEqual({
      ready: true,
    })
  })

  it("reports Triton's model configuration over REST and gRPC alike (get_model_config)", async () => {
    const expected = {
      name: 'movies',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      // Whole shapes, rows dimension included: what a request sends (model-config.ts).
      max_batch_size: 0,
      input: [
        { name: 'x1', data_type: 'TYPE_FP32', dims: [-1] },
        { name: 'x2', data_type: 'TYPE_FP32', dims: [-1] },
      ],
      output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [-1, 1] }],
    }
    const rest = await h.rest('GET', '/v2/models/movies/config', h.tokens.analyst)
    expect(rest.status).toBe(200)
    expect(rest.body).toEqual(expected)
    const pinned = await h.rest('GET', '/v2/models/movies/versions/1/config', h.tokens.analyst)
    expect(pinned.body).toEqual(expected)
    // int64 dims decode as decimal strings (`@argmax/proto`); the values are the same.
    const grpc = await h.grpc.call<{ config: typeof expected }>('ModelConfig', {
      name: 'movies',
      version: '',
    })
    expect({
      ...grpc.config,
      input: grpc.config.input.map((i) => ({ ...i, dims: i.dims.map(Number) })),
      output: grpc.config.output.map((o) => ({ ...o, dims: o.dims.map(Number) })),
    }).toEqual(expected)
    expect((await h.rest('GET', '/v2/models/nope/config', h.tokens.analyst)).status).toBe(404)
    await expect(h.grpc.call('ModelConfig', { name: 'nope', version: '' })).rejects.toMatchObject({
      code: status.NOT_FOUND,
    })
    expect((await h.rest('GET', '/v2/models/movies/config', null)).status).toBe(401)
  })

  it('refuses unknown models and versions (404 / NOT_FOUND) and models without a release (503 / UNAVAILABLE)', async () => {
    const unknown = await h.rest('POST', '/v2/models/nope/infer', h.tokens.alice, {
      inputs: v2Inputs([1], [1]),
    })
    expect(unknown.status).toBe(404)
    expect(unknown.body).toMatchObject({
      detail: 'model nope not found',
      error: 'model nope not found',
    })
    const version = await h.rest('POST', '/v2/models/movies/versions/9/infer', h.tokens.alice, {
      inputs: v2Inputs([1], [1]),
    })
    expect(version.status).toBe(404)
    await expect(
      h.grpc.call('ModelInfer', { model_name: 'nope', inputs: [] }),
    ).rejects.toMatchObject({ code: status.NOT_FOUND })

    await h.registry.registerVersion('unreleased', 1, models.linear.get(1)!.bytes, LINEAR_SIGNATURE)
    await waitFor(
      async () =>
        (await h.rest('GET', '/v2/models/unreleased/ready', h.tokens.alice)).status !== 404,
    )
    const none = await h.rest('POST', '/v1/models/unreleased:predict', h.tokens.alice, {
      instances: [{ x1: 1, x2: 1 }],
    })
    expect(none.status).toBe(503)
    expect(none.headers['retry-after']).toBe('5')
    expect(none.body).toMatchObject({ detail: 'model unreleased has no release' })
    // Readiness says why, as the 503 of a prediction does.
    const notReady = await h.rest('GET', '/v2/models/unreleased/ready', h.tokens.alice)
    expect(notReady.status).toBe(503)
    expect(notReady.body).toMatchObject({ detail: 'model unreleased has no release' })
    await expect(
      h.grpc.call('ModelInfer', { model_name: 'unreleased', inputs: [] }),
    ).rejects.toMatchObject({ code: status.UNAVAILABLE })
  })

  it('needs a token, and the role user, internal or admin to predict (analysts read metadata only)', async () => {
    const body = { inputs: v2Inputs([1], [1]) }
    expect((await h.rest('POST', '/v2/models/movies/infer', null, body)).status).toBe(401)
    const analyst = await h.rest('POST', '/v2/models/movies/infer', h.tokens.analyst, body)
    expect(analyst.status).toBe(403)
    await expect(
      h.grpcAs(h.tokens.analyst).call('ModelInfer', {
        model_name: 'movies',
        inputs: [
          { name: 'x1', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
          { name: 'x2', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } },
        ],
      }),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED })
    const { createV2Client } = await import('../../src/model-server/index.ts')
    const anonymous = createV2Client(h.gateway.workers.grpc.address)
    await expect(anonymous.call('ServerLive', {})).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    })
    anonymous.close()
    expect((await h.rest('POST', '/v2/models/movies/infer', h.tokens.admin, body)).status).toBe(200)
  })

  it('refuses repository loads on the gateway: releases decide what serves', async () => {
    await expect(
      h
        .grpcAs(h.tokens.admin)
        .call('RepositoryModelLoad', { model_name: 'movies', parameters: {} }),
    ).rejects.toMatchObject({ code: status.FAILED_PRECONDITION })
    const index = await h
      .grpcAs(h.tokens.admin)
      .call<{ models: { name: string; version: string; state: string }[] }>('RepositoryIndex', {})
    expect(index.models).toContainEqual(
      expect.objectContaining({ name: 'movies', version: '1', state: 'READY' }),
    )

    // The REST form alike, as tritonclient.http calls it (no Content-Type).
    const restIndex = await h.rest('POST', '/v2/repository/index', h.tokens.admin)
    expect(restIndex.status).toBe(200)
    expect(restIndex.body).toEqual(index.models)
    const load = await h.rest<{ detail: string }>(
      'POST',
      '/v2/repository/models/movies/load',
      h.tokens.admin,
      Buffer.from(JSON.stringify({ parameters: { version: '1' } })),
    )
    expect(load.status).toBe(409)
    expect(load.body.detail).toMatch(/^the gateway serves what the registry releases/)
    expect((await h.rest('POST', '/v2/repository/index', h.tokens.alice)).status).toBe(403)
  })

  it('records every answered request in INFERENCE_LOG before answering (durable mode)', async () => {
    const jsm = await h.nc.jetstreamManager()
    const before = (await jsm.streams.info(h.names.log.stream)).state.messages
    const answer = await h.rest<V2Answer>('POST', '/v2/models/movies/infer', h.tokens.alice, {
      id: 'logged-1',
      inputs: v2Inputs([5, 6], [7, 8]),
    })
    expect(answer.status).toBe(200)
    const info = await jsm.streams.info(h.names.log.stream)
    expect(info.state.messages).toBe(before + 1)
    const last = await jsm.streams.getMessage(h.names.log.stream, { seq: info.state.last_seq })
    const envelope = JSON.parse(new TextDecoder().decode(last.data)) as {
      type: string
      schemaVersion: number
      data: Record<string, unknown>
    }
    expect(last.subject).toBe(`${h.names.log.subjectPrefix}.movies`)
    expect(envelope.type).toBe('PredictionLogged')
    expect(envelope.schemaVersion).toBe(2)
    expect(envelope.data).toMatchObject({
      requestId: 'logged-1',
      model: 'movies',
      version: 1,
      variant: 'stable',
      caller: 'alice',
      protocol: 'rest',
      status: 'success',
      rowOffset: 0,
      rows: [
        {
          predictionId: answer.body.parameters.prediction_ids.split(',')[0],
          inputs: '{"x1":5,"x2":7}',
          outputs: JSON.stringify({ y: linearExpected(5, 7, 1) }),
          prediction: linearExpected(5, 7, 1),
        },
        expect.objectContaining({ inputs: '{"x1":6,"x2":8}' }),
      ],
    })
  })
})

describe('prediction metrics', () => {
  it('count and time every request by model, version, caller and status, in the seed names', async () => {
    await h.rest('POST', '/v2/models/movies/infer', h.tokens.bob, { inputs: v2Inputs([1], [1]) })
    await h.rest('POST', '/v2/models/movies/infer', h.tokens.bob, {
      inputs: v2Inputs([1], [null as unknown as number]),
    })
    await h.rest('POST', '/v2/models/never-heard-of/infer', h.tokens.bob, {
      inputs: v2Inputs([1], [1]),
    })
    const text = await h.metrics.metricsText()
    const line = (name: string, labels: string) =>
      text
        .split('\n')
        .find(
          (l) => l.startsWith(`${name}{`) && labels.split(',').every((label) => l.includes(label)),
        )
    expect(
      line(
        'model_prediction_total',
        'model_name="movies",status="success",user_id="bob",version="1"',
      ),
    ).toBeDefined()
    expect(
      line(
        'model_prediction_total',
        'model_name="movies",status="error",user_id="bob",version="1"',
      ),
    ).toBeDefined()
    // An unknown model is not a label value: callers cannot grow the series.
    expect(line('model_prediction_total', 'model_name="",status="error"')).toBeDefined()
    expect(text).not.toContain('never-heard-of')
    for (const le of ['0.01', '0.05', '0.1']) {
      expect(
        line('model_prediction_latency_bucket', `le="${le}",model_name="movies"`),
      ).toBeDefined()
    }
    expect(text).toContain('inference_model_server_up{')
    expect(text).toContain('inference_prediction_log_dropped')
  })
})

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
