import { status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LINEAR_SIGNATURE, writeTestModels } from '@argmax/testkit/onnx-models'
import { linearConfig, startHarness, type Harness } from './support/harness.ts'

let h: Harness

beforeAll(async () => {
  const models = await writeTestModels([0.5])
  h = await startHarness({ ARGMAX_MODEL_SERVER_MAX_MESSAGE_MB: '1' })
  const artifact = await h.upload('linear/model.onnx', models.linear.get(0.5)!.bytes)
  await h.load('linear', '1', linearConfig(artifact, LINEAR_SIGNATURE))
})
afterAll(() => h?.stop())

describe('message size limits (ARGMAX_MODEL_SERVER_MAX_MESSAGE_MB)', () => {
  const rows = 300_000 // 2 × 1.2 MB of FP32: past the 1 MiB limit

  it('refuses an oversized gRPC request with RESOURCE_EXHAUSTED before the model sees it', async () => {
    const runs = h.batches.length
    const error = (await h.grpc
      .call('ModelInfer', {
        model_name: 'linear',
        inputs: [
          { name: 'x1', datatype: 'FP32', shape: [rows] },
          { name: 'x2', datatype: 'FP32', shape: [rows] },
        ],
        raw_input_contents: [Buffer.alloc(rows * 4), Buffer.alloc(rows * 4)],
      })
      .catch((e: unknown) => e)) as ServiceError
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED)
    expect(h.batches.length).toBe(runs)
  })

  it('refuses an oversized REST body with 413 from its declared length', async () => {
    const body = JSON.stringify({
      inputs: [{ name: 'x1', datatype: 'FP32', shape: [rows], data: Array(rows).fill(1.25) }],
    })
    const response = await h.rest('/v2/models/linear/infer', { method: 'POST', body })
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({
      status: 413,
      detail: `body is ${Buffer.byteLength(body)} bytes; the limit is 1048576 bytes`,
    })
  })
})
