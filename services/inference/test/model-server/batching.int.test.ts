import { status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LINEAR_SIGNATURE, linearExpected, writeTestModels } from '@argmax/testkit/onnx-models'
import { fp32Bytes, linearConfig, readFp32, startHarness, type Harness } from './support/harness.ts'

let h: Harness

// A queue delay far longer than any test: a batch here is cut only when it is full, so which
// requests merge never depends on timing.
const FOREVER_MICROSECONDS = 10_000_000

beforeAll(async () => {
  const models = await writeTestModels([0.5])
  h = await startHarness()
  const artifact = await h.upload('linear/model.onnx', models.linear.get(0.5)!.bytes)
  await h.load(
    'batched',
    '1',
    linearConfig(artifact, LINEAR_SIGNATURE, {
      dynamicBatching: { maxBatchSize: 8, maxQueueDelayMicroseconds: FOREVER_MICROSECONDS },
    }),
  )
  await h.load(
    'unbatched',
    '1',
    linearConfig(artifact, LINEAR_SIGNATURE, { dynamicBatching: { maxBatchSize: 0 } }),
  )
})
afterAll(() => h?.stop())

interface InferResponse {
  id: string
  outputs: { shape: string[] }[]
  raw_output_contents: Buffer[]
}

/** A request of `rows` rows whose x1 values identify the caller: x1 = tag + row / 100. */
function request(model: string, tag: number, rows: number, x2 = 1) {
  const x1 = Array.from({ length: rows }, (_, row) => tag + row / 100)
  return {
    call: h.grpc.call<InferResponse>('ModelInfer', {
      model_name: model,
      id: `caller-${tag}`,
      inputs: [
        { name: 'x1', datatype: 'FP32', shape: [rows] },
        { name: 'x2', datatype: 'FP32', shape: [rows] },
      ],
      raw_input_contents: [fp32Bytes(x1), fp32Bytes(Array(rows).fill(x2))],
    }),
    expected: x1.map((value) => linearExpected(Math.fround(value), x2, 0.5)),
  }
}

const batchesOf = (model: string) => h.batches.filter((batch) => batch.model === model)

describe('dynamic batching', () => {
  it('merges concurrent requests into one run and hands each caller exactly its own rows', async () => {
    const before = batchesOf('batched').length
    // 1 + 2 + 3 + 2 = 8 rows: one full batch.
    const requests = [1, 2, 3, 2].map((rows, i) => request('batched', (i + 1) * 10, rows))
    const responses = await Promise.all(requests.map((r) => r.call))
    const runs = batchesOf('batched').slice(before)
    expect(runs.map((run) => [run.report.rows, run.report.requests])).toEqual([[8, 4]])
    responses.forEach((response, i) => {
      expect(response.id).toBe(`caller-${(i + 1) * 10}`)
      expect(response.outputs[0]!.shape).toEqual([String([1, 2, 3, 2][i]), '1'])
      expect(readFp32(response.raw_output_contents[0]!)).toEqual(requests[i]!.expected)
    })
  })

  it('never merges past maxBatchSize', async () => {
    const before = batchesOf('batched').length
    // 4 requests of 4 rows, whatever their order of arrival: two full batches of two.
    const requests = [4, 4, 4, 4].map((rows, i) => request('batched', (i + 1) * 10, rows))
    const responses = await Promise.all(requests.map((r) => r.call))
    const runs = batchesOf('batched').slice(before)
    expect(runs.map((run) => [run.report.rows, run.report.requests])).toEqual([
      [8, 2],
      [8, 2],
    ])
    responses.forEach((response, i) =>
      expect(readFp32(response.raw_output_contents[0]!)).toEqual(requests[i]!.expected),
    )
  })

  it('runs a request larger than the batch alone, at once', async () => {
    const before = batchesOf('batched').length
    const big = request('batched', 1, 20)
    expect(readFp32((await big.call).raw_output_contents[0]!)).toEqual(big.expected)
    expect(
      batchesOf('batched')
        .slice(before)
        .map((run) => run.report),
    ).toEqual([{ rows: 20, requests: 1, queueDelaysMs: [expect.any(Number)] }])
  })

  it('keeps an invalid request out of the batch: it fails alone, the others are answered', async () => {
    const before = batchesOf('batched').length
    const valid = [3, 5].map((rows, i) => request('batched', (i + 1) * 10, rows))
    const invalid = request('batched', 99, 2, Number.NaN) // x2 is not nullable
    const [first, second, refused] = await Promise.allSettled([
      valid[0]!.call,
      valid[1]!.call,
      invalid.call,
    ])
    expect(refused).toMatchObject({
      status: 'rejected',
      reason: { code: status.INVALID_ARGUMENT },
    })
    expect((refused as PromiseRejectedResult).reason as ServiceError).toMatchObject({
      details: expect.stringContaining('inputs/x2: row 0 is missing'),
    })
    expect(
      readFp32((first as PromiseFulfilledResult<InferResponse>).value.raw_output_contents[0]!),
    ).toEqual(valid[0]!.expected)
    expect(
      readFp32((second as PromiseFulfilledResult<InferResponse>).value.raw_output_contents[0]!),
    ).toEqual(valid[1]!.expected)
    expect(
      batchesOf('batched')
        .slice(before)
        .map((run) => run.report.rows),
    ).toEqual([8])
  })

  it('runs every request alone when batching is off for the version', async () => {
    const before = batchesOf('unbatched').length
    const requests = [1, 2, 3].map((rows, i) => request('unbatched', (i + 1) * 10, rows))
    const responses = await Promise.all(requests.map((r) => r.call))
    expect(
      batchesOf('unbatched')
        .slice(before)
        .map((run) => run.report.rows)
        .sort(),
    ).toEqual([1, 2, 3])
    responses.forEach((response, i) =>
      expect(readFp32(response.raw_output_contents[0]!)).toEqual(requests[i]!.expected),
    )
  })

  it('exports batch sizes, queue delays and inference counts as Prometheus metrics', async () => {
    const text = await h.metricsText()
    const batched = `model_name="batched",version="1",otel_scope_name="model-server"`
    const runs = batchesOf('batched')
    expect(text).toContain(`model_server_batch_size_count{${batched}} ${runs.length}`)
    expect(text).toContain(
      `model_server_batch_size_sum{${batched}} ${runs.reduce((sum, run) => sum + run.report.rows, 0)}`,
    )
    expect(text).toContain(
      `model_server_queue_delay_seconds_count{${batched}} ${runs.reduce((sum, run) => sum + run.report.requests, 0)}`,
    )
    expect(text).toMatch(/model_server_batch_size_bucket\{model_name="batched",[^}]*,le="8"\} \d+/)
    const success = `model_name="batched",version="1",status="success",otel_scope_name="model-server"`
    expect(text).toContain(`model_server_inference_total{${success}} 11`)
    expect(text).toContain(
      `model_server_inference_total{model_name="batched",version="1",status="error",otel_scope_name="model-server"} 1`,
    )
    expect(text).toMatch(
      /model_server_inference_duration_seconds_bucket\{model_name="batched",version="1",status="success",[^}]*le="0.01"\} \d+/,
    )
    expect(text).toContain('model_server_versions{state="READY",otel_scope_name="model-server"} 2')
  })
})
