import type { ModelSignature } from '@argmax/contracts'
import { headObject } from '@argmax/storage'
import { LINEAR_SIGNATURE, MIXED_SIGNATURE } from '@argmax/testkit/onnx-models'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelSubject } from '../../src/streams.ts'
import { sha256Hex, startHarness, testModels, type Harness } from '../support/harness.ts'

interface Started {
  upload: { uploadId: string; status: string }
  url: string
}
interface Problem {
  status: number
  detail: string
  errors?: Array<{ field: string; message: string }>
}
interface Completed {
  position: number
  version: {
    version: number
    source: { kind: string; uploadId?: string }
    artifact: { uri: string; sha256: string; size: number }
    metrics: Record<string, number>
  }
}

describe('manual registration of an ONNX file', () => {
  let h: Harness
  let linear: Buffer
  let mixed: Buffer
  beforeAll(async () => {
    h = await startHarness()
    ;({ linear, mixed } = await testModels())
    expect((await h.call('POST', '/v1/models', h.tokens.alice, { name: 'handmade' })).status).toBe(
      201,
    )
  })
  afterAll(() => h.stop())

  async function start(
    body: {
      signature: ModelSignature
      size: number
      sha256?: string
      metrics?: Record<string, number>
    },
    key?: string,
  ) {
    const answer = await h.call<Started & Problem>(
      'POST',
      '/v1/models/handmade/uploads',
      h.tokens.alice,
      body,
      key ? { 'idempotency-key': key } : {},
    )
    return answer
  }
  const put = (url: string, bytes: Buffer) => fetch(url, { method: 'PUT', body: bytes })
  const complete = (uploadId: string) =>
    h.call<Completed & Problem>(
      'POST',
      `/v1/models/handmade/uploads/${uploadId}/complete`,
      h.tokens.alice,
    )
  const registered = async () =>
    (await h.store.load(modelSubject(h.names, 'handmade'))).filter(
      (e) => e.type === 'ModelVersionRegistered',
    )

  it('registers a valid file: presigned PUT, checked in ONNX Runtime, SHA-256 recorded', async () => {
    const started = await start(
      {
        signature: LINEAR_SIGNATURE,
        size: linear.length,
        sha256: sha256Hex(linear),
        metrics: { rmse: 0.5 },
      },
      'upload-1',
    )
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    expect((await put(started.body.url, linear)).status).toBe(200)
    const done = await complete(started.body.upload.uploadId)
    expect(done.status, JSON.stringify(done.body)).toBe(201)
    expect(done.body.version).toMatchObject({
      version: 1,
      source: { kind: 'upload', uploadId: started.body.upload.uploadId },
      artifact: { sha256: sha256Hex(linear), size: linear.length },
      metrics: { rmse: 0.5 },
    })
    // Retries: the same start under its key is the same upload; completing again, the same version.
    const again = await start(
      {
        signature: LINEAR_SIGNATURE,
        size: linear.length,
        sha256: sha256Hex(linear),
        metrics: { rmse: 0.5 },
      },
      'upload-1',
    )
    expect(again.body.upload.uploadId).toBe(started.body.upload.uploadId)
    const repeated = await complete(started.body.upload.uploadId)
    expect(repeated.status).toBe(201)
    expect(repeated.body.version.version).toBe(1)
    expect(await registered()).toHaveLength(1)

    const version = await h.call<{ signature: ModelSignature }>(
      'GET',
      '/v1/models/handmade/versions/1',
      h.tokens.alice,
    )
    expect(version.body.signature).toEqual(LINEAR_SIGNATURE)
  })

  it('refuses a corrupt file with a 400 naming the problem, registers nothing, and takes a fixed file', async () => {
    const started = await start({ signature: LINEAR_SIGNATURE, size: linear.length })
    const corrupt = Buffer.from(linear)
    corrupt.fill(0x7f, 0, 64)
    expect((await put(started.body.url, corrupt)).status).toBe(200)
    const refused = await complete(started.body.upload.uploadId)
    expect(refused.status).toBe(400)
    expect(refused.body.errors?.[0]?.field).toBe('file')
    expect(refused.body.detail).toContain('model.onnx cannot be loaded by ONNX Runtime')
    expect(await registered()).toHaveLength(1)

    // The upload stays open: the right bytes at the same URL complete it.
    expect((await put(started.body.url, linear)).status).toBe(200)
    const done = await complete(started.body.upload.uploadId)
    expect(done.status).toBe(201)
    expect(done.body.version.version).toBe(2)
  })

  it('refuses a declared signature that does not match the graph, naming the input', async () => {
    const missing: ModelSignature = {
      ...LINEAR_SIGNATURE,
      inputs: [
        LINEAR_SIGNATURE.inputs[0]!,
        { name: 'x3', datatype: 'FP32', shape: [-1], nullable: false },
      ],
    }
    const first = await start({ signature: missing, size: linear.length })
    await put(first.body.url, linear)
    const refused = await complete(first.body.upload.uploadId)
    expect(refused.status).toBe(400)
    expect(refused.body.errors).toEqual([
      {
        field: 'signature/inputs/1/name',
        message: "input 'x3' is not in the model (its inputs: 'x1', 'x2')",
      },
      {
        field: 'signature/inputs',
        message: "the model takes input 'x2', which the signature does not declare",
      },
    ])

    const wrongType: ModelSignature = {
      ...LINEAR_SIGNATURE,
      inputs: [LINEAR_SIGNATURE.inputs[0]!, { ...LINEAR_SIGNATURE.inputs[1]!, datatype: 'BYTES' }],
    }
    const second = await start({ signature: wrongType, size: linear.length })
    await put(second.body.url, linear)
    const typed = await complete(second.body.upload.uploadId)
    expect(typed.status).toBe(400)
    expect(typed.body.errors).toEqual([
      {
        field: 'signature/inputs/1/datatype',
        message: "input 'x2' is declared BYTES, the model's is float32",
      },
    ])

    // The mixed model's string input declared as numbers: named too.
    const third = await start({
      signature: {
        ...MIXED_SIGNATURE,
        inputs: [{ ...MIXED_SIGNATURE.inputs[0]!, datatype: 'FP32' }, MIXED_SIGNATURE.inputs[1]!],
      },
      size: mixed.length,
    })
    await put(third.body.url, mixed)
    const mixedRefused = await complete(third.body.upload.uploadId)
    expect(mixedRefused.status).toBe(400)
    expect(mixedRefused.body.detail).toContain(
      "input 'genre' is declared FP32, the model's is string",
    )
    expect(await registered()).toHaveLength(2)
  })

  it('refuses a file that is not what was declared, or not there', async () => {
    const nothing = await start({ signature: LINEAR_SIGNATURE, size: linear.length })
    const empty = await complete(nothing.body.upload.uploadId)
    expect(empty.status).toBe(400)
    expect(empty.body.detail).toContain('nothing was uploaded')

    const wrongSha = await start({
      signature: LINEAR_SIGNATURE,
      size: linear.length,
      sha256: 'a'.repeat(64),
    })
    await put(wrongSha.body.url, linear)
    const refused = await complete(wrongSha.body.upload.uploadId)
    expect(refused.status).toBe(400)
    expect(refused.body.detail).toContain(`SHA-256 is ${sha256Hex(linear)}`)
    expect(await registered()).toHaveLength(2)
  })

  it('refuses an oversized file before any upload (413) and a bad signature naming the field (400)', async () => {
    const tooLarge = await start({ signature: LINEAR_SIGNATURE, size: 65 * 1024 * 1024 })
    expect(tooLarge.status).toBe(413)
    const bad = await start({
      signature: { ...LINEAR_SIGNATURE, inputs: [{ ...LINEAR_SIGNATURE.inputs[0]!, shape: [0] }] },
      size: 10,
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errors?.[0]?.field).toBe('signature/inputs/0/shape')
  })

  it('an aborted upload deletes its file and cannot complete', async () => {
    const started = await start({ signature: LINEAR_SIGNATURE, size: linear.length })
    await put(started.body.url, linear)
    const aborted = await h.call<{ status: string }>(
      'DELETE',
      `/v1/models/handmade/uploads/${started.body.upload.uploadId}`,
      h.tokens.alice,
    )
    expect(aborted.body.status).toBe('ABORTED')
    expect((await complete(started.body.upload.uploadId)).status).toBe(409)
    const key = `models/handmade/uploads/${started.body.upload.uploadId}/model.onnx`
    expect(await headObject(h.s3, { bucket: h.bucket, key })).toBeUndefined()
  })
})
