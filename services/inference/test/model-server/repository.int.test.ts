import { randomBytes } from 'node:crypto'
import { status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  LINEAR_SIGNATURE,
  MIXED_SIGNATURE,
  writeTestModels,
  type TestModels,
} from '@argmax/testkit/onnx-models'
import { fp32Bytes, linearConfig, startHarness, type Harness } from './support/harness.ts'

let models: TestModels
let h: Harness

beforeAll(async () => {
  models = await writeTestModels([0.5, 100])
  h = await startHarness()
})
afterAll(() => h?.stop())

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise
  } catch (error) {
    return error as ServiceError
  }
  throw new Error('expected the call to fail')
}

const index = async (ready = false) =>
  ((await h.grpc.call('RepositoryIndex', { ready })) as { models: unknown[] }).models

const oneRow = (version = '') => ({
  model_name: 'linear',
  model_version: version,
  inputs: [
    { name: 'x1', datatype: 'FP32', shape: [1] },
    { name: 'x2', datatype: 'FP32', shape: [1] },
  ],
  raw_input_contents: [fp32Bytes([1]), fp32Bytes([1])],
})

describe('the model repository over gRPC', () => {
  it('loads versions side by side, lists them, and unloads one or all', async () => {
    const v1 = await h.upload('linear/1/model.onnx', models.linear.get(0.5)!.bytes)
    const v2 = await h.upload('linear/2/model.onnx', models.linear.get(100)!.bytes)
    await h.load('linear', '1', linearConfig(v1, LINEAR_SIGNATURE))
    await h.load('linear', '2', linearConfig(v2, LINEAR_SIGNATURE))
    // The same load again is answered at once: nothing is downloaded or reloaded.
    const downloads = h.downloads.length
    await h.load('linear', '2', linearConfig(v2, LINEAR_SIGNATURE))
    expect(h.downloads.length).toBe(downloads)

    expect(await index()).toEqual([
      { name: 'linear', version: '1', state: 'READY', reason: '' },
      { name: 'linear', version: '2', state: 'READY', reason: '' },
    ])
    expect(await h.grpc.call('ModelReady', { name: 'linear', version: '1' })).toEqual({
      ready: true,
    })
    expect(await h.grpc.call('ModelMetadata', { name: 'linear', version: '' })).toEqual({
      name: 'linear',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'x1', datatype: 'FP32', shape: ['-1'] },
        { name: 'x2', datatype: 'FP32', shape: ['-1'] },
      ],
      outputs: [{ name: 'y', datatype: 'FP32', shape: ['-1', '1'] }],
    })

    await h.unload('linear', '2')
    expect(await index()).toEqual([{ name: 'linear', version: '1', state: 'READY', reason: '' }])
    const gone = await failure(h.grpc.call('ModelInfer', oneRow('2')))
    expect(gone.code).toBe(status.NOT_FOUND)
    expect(gone.details).toBe('model version linear/2 not found')
    // Unloading what is not loaded is already done (a gateway retries freely).
    await h.unload('linear', '2')

    // Loaded again: the artifact comes from the local cache, not from S3.
    const before = h.downloads.length
    await h.load('linear', '2', linearConfig(v2, LINEAR_SIGNATURE))
    expect(h.downloads.length).toBe(before)

    await h.unload('linear')
    expect(await index()).toEqual([])
    expect((await failure(h.grpc.call('ModelReady', { name: 'linear', version: '' }))).code).toBe(
      status.NOT_FOUND,
    )
  })

  it('reports an artifact whose SHA-256 does not match as UNAVAILABLE, and does not retry it in a loop', async () => {
    const good = await h.upload('sha/1/model.onnx', models.linear.get(0.5)!.bytes)
    const wrongSha = randomBytes(32).toString('hex')
    const config = linearConfig({ ...good, sha256: wrongSha }, LINEAR_SIGNATURE)

    const load = await failure(h.load('sha', '1', config))
    expect(load.code).toBe(status.FAILED_PRECONDITION)
    expect(load.details).toBe(
      `version 1 of model sha failed to load: ${good.artifactUri} has SHA-256 ${good.sha256} ` +
        `(${models.linear.get(0.5)!.bytes.byteLength} bytes), not the expected ${wrongSha}`,
    )
    const reason = `${good.artifactUri} has SHA-256 ${good.sha256} (${models.linear.get(0.5)!.bytes.byteLength} bytes), not the expected ${wrongSha}`
    expect(await index()).toContainEqual({
      name: 'sha',
      version: '1',
      state: 'UNAVAILABLE',
      reason,
    })
    expect(await index(true)).not.toContainEqual(expect.objectContaining({ name: 'sha' }))

    const ready = await failure(h.grpc.call('ModelReady', { name: 'sha', version: '1' }))
    expect(ready.code).toBe(status.UNAVAILABLE)
    expect(ready.details).toBe(`version 1 of model sha failed to load: ${reason}`)
    const metadata = await failure(h.grpc.call('ModelMetadata', { name: 'sha', version: '1' }))
    expect(metadata.code).toBe(status.UNAVAILABLE)
    expect(metadata.details).toContain(reason)
    const infer = await failure(h.grpc.call('ModelInfer', { ...oneRow('1'), model_name: 'sha' }))
    expect(infer.code).toBe(status.UNAVAILABLE)

    // Asked again at once: refused from memory, nothing downloaded, with the time to wait.
    const downloads = h.downloads.length
    const again = await failure(h.load('sha', '1', config))
    expect(again.code).toBe(status.FAILED_PRECONDITION)
    expect(again.details).toContain('failed 1 time; the same config is tried again from 1 s on')
    expect(again.metadata.get('retry-after')).toEqual(['1'])
    expect(h.downloads.length).toBe(downloads)

    // After the backoff the same config is tried again (and fails again, now for 2 s).
    h.advanceClock(1_000)
    await failure(h.load('sha', '1', config))
    expect(h.downloads.length).toBe(downloads + 1)
    h.advanceClock(1_000)
    expect((await failure(h.load('sha', '1', config))).details).toContain('from 1 s on')
    expect(h.downloads.length).toBe(downloads + 1)

    // A corrected config is tried at once.
    await h.load('sha', '1', linearConfig(good, LINEAR_SIGNATURE))
    expect(await index()).toContainEqual({ name: 'sha', version: '1', state: 'READY', reason: '' })
  })

  it('reports a corrupt file, a missing object and a model that does not fit its signature', async () => {
    const corrupt = await h.upload('corrupt/1/model.onnx', randomBytes(300))
    const corruptLoad = await failure(
      h.load('corrupt', '1', linearConfig(corrupt, LINEAR_SIGNATURE)),
    )
    expect(corruptLoad.code).toBe(status.FAILED_PRECONDITION)
    expect(corruptLoad.details).toMatch(
      new RegExp(
        `^version 1 of model corrupt failed to load: ONNX Runtime cannot load ${corrupt.artifactUri}: `,
      ),
    )

    const missing = { artifactUri: `s3://${h.bucket}/nowhere/model.onnx`, sha256: 'a'.repeat(64) }
    const missingLoad = await failure(
      h.load('missing', '1', linearConfig(missing, LINEAR_SIGNATURE)),
    )
    expect(missingLoad.details).toBe(
      `version 1 of model missing failed to load: ${missing.artifactUri} does not exist`,
    )

    const linear = await h.upload('mismatch/1/model.onnx', models.linear.get(0.5)!.bytes)
    const mismatch = await failure(h.load('mismatch', '1', linearConfig(linear, MIXED_SIGNATURE)))
    expect(mismatch.code).toBe(status.FAILED_PRECONDITION)
    expect(mismatch.details).toContain(
      `${linear.artifactUri} does not match its signature: the model has no input 'genre' (its inputs: x1, x2)`,
    )
    expect(mismatch.details).toContain('the model also needs inputs x1, x2')

    expect(await index()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'corrupt', state: 'UNAVAILABLE' }),
        expect.objectContaining({ name: 'missing', state: 'UNAVAILABLE' }),
        expect.objectContaining({ name: 'mismatch', state: 'UNAVAILABLE' }),
      ]),
    )
  })

  it('reports S3 out of reach as UNAVAILABLE after its retries', async () => {
    const unreachable = await startHarness({ ARGMAX_S3_ENDPOINT: 'http://127.0.0.1:9' })
    try {
      const load = await failure(
        unreachable.load(
          'far',
          '1',
          linearConfig(
            { artifactUri: 's3://nowhere/model.onnx', sha256: 'b'.repeat(64) },
            LINEAR_SIGNATURE,
          ),
        ),
      )
      expect(load.code).toBe(status.UNAVAILABLE)
      expect(load.details).toMatch(
        /^version 1 of model far failed to load: s3:\/\/nowhere\/model.onnx could not be downloaded: /,
      )
      expect(unreachable.downloads).toHaveLength(2)
    } finally {
      await unreachable.stop()
    }
  })

  it('refuses a malformed load naming every field, and changes nothing', async () => {
    const bad = await failure(
      h.grpc.call('RepositoryModelLoad', {
        model_name: 'bad',
        parameters: {
          version: { string_param: 'one' },
          config: { string_param: '{}' },
        },
      }),
    )
    expect(bad.code).toBe(status.INVALID_ARGUMENT)
    expect(bad.details).toBe('parameters/version: must be a positive integer, got "one"')

    const fields = await failure(
      h.grpc.call('RepositoryModelLoad', {
        model_name: 'bad',
        parameters: {
          version: { int64_param: 1 },
          config: {
            string_param: JSON.stringify({
              artifactUri: 'http://example/model.onnx',
              sha256: 'xyz',
              signature: { task: 'regression', inputs: [], outputs: [] },
              dynamicBatching: { maxBatchSize: -1, delay: 3 },
            }),
          },
        },
      }),
    )
    expect(fields.code).toBe(status.INVALID_ARGUMENT)
    expect(fields.details).toBe(
      'invalid load config: ' +
        [
          'parameters/config/artifactUri must be s3://<bucket>/<key>',
          'parameters/config/sha256 must be 64 lower-case hex digits',
          'parameters/config/signature/inputs must name at least one input',
          'parameters/config/signature/outputs must name at least one output',
          'parameters/config/dynamicBatching/maxBatchSize Too small: expected number to be >=0',
          'parameters/config/dynamicBatching Unrecognized key: "delay"',
        ].join('; '),
    )
    const noConfig = await failure(
      h.grpc.call('RepositoryModelLoad', {
        model_name: 'bad',
        parameters: { version: { string_param: '1' } },
      }),
    )
    expect(noConfig.details).toMatch(/^parameters\/config: is required/)
    const unknown = await failure(
      h.grpc.call('RepositoryModelLoad', {
        model_name: 'bad',
        parameters: {
          version: { string_param: '1' },
          'file:1/model.onnx': { bytes_param: 'AA==' },
        },
      }),
    )
    expect(unknown.details).toBe(
      'parameters/file:1/model.onnx: is not a parameter of this call (it takes version, config)',
    )
    expect(await index()).not.toContainEqual(expect.objectContaining({ name: 'bad' }))
  })
})

describe('the model repository over REST, as tritonclient.http calls it', () => {
  /** tritonclient posts its bodies without a Content-Type; the index with an empty one. */
  const post = (path: string, body?: unknown, token?: string) =>
    h.rest(path, {
      method: 'POST',
      body:
        body === undefined ? new Uint8Array(0) : new Uint8Array(Buffer.from(JSON.stringify(body))),
      ...(token ? { token } : {}),
    })

  it('loads a version, lists it, and unloads every version of the model', async () => {
    const artifact = await h.upload('rest/4/model.onnx', models.linear.get(0.5)!.bytes)
    const load = await post('/v2/repository/models/rest/load', {
      parameters: { version: 4, config: JSON.stringify(linearConfig(artifact, LINEAR_SIGNATURE)) },
    })
    expect(load.status).toBe(200)
    expect(await load.text()).toBe('')
    // `config` may also be the object itself.
    const five = await post('/v2/repository/models/rest/load', {
      parameters: { version: '5', config: linearConfig(artifact, LINEAR_SIGNATURE) },
    })
    expect(five.status).toBe(200)

    const listed = await post('/v2/repository/index')
    expect(listed.status).toBe(200)
    const entries = (await listed.json()) as unknown[]
    expect(entries).toContainEqual({ name: 'rest', version: '4', state: 'READY', reason: '' })
    expect(entries).toContainEqual({ name: 'rest', version: '5', state: 'READY', reason: '' })
    expect(entries).toEqual(await index())
    expect(await (await post('/v2/repository/index', { ready: true })).json()).toEqual(
      await index(true),
    )

    // tritonclient.http's unload_model sends its unload_dependents flag; no version: all go.
    const unload = await post('/v2/repository/models/rest/unload', {
      parameters: { unload_dependents: false },
    })
    expect(unload.status).toBe(200)
    expect(await index()).not.toContainEqual(expect.objectContaining({ name: 'rest' }))
  })

  it('refuses malformed loads naming the field, and anyone but an admin', async () => {
    const problem = async (answer: Response) => ({
      status: answer.status,
      detail: ((await answer.json()) as { detail: string }).detail,
    })
    expect(
      await problem(
        await post('/v2/repository/models/bad/load', {
          parameters: { version: 'one', config: '{}' },
        }),
      ),
    ).toEqual({ status: 400, detail: 'parameters/version: must be a positive integer, got "one"' })
    expect(
      await problem(await post('/v2/repository/models/bad/load', { parameters: { version: [1] } })),
    ).toEqual({
      status: 400,
      detail: 'parameters/version: must be a string, an integer or a boolean',
    })
    expect(
      await problem(await post('/v2/repository/models/bad/load', { parameters: { version: 1 } })),
    ).toMatchObject({
      status: 400,
      detail: expect.stringMatching(/^parameters\/config: is required/),
    })
    expect(await problem(await post('/v2/repository/models/bad/load', { version: 1 }))).toEqual({
      status: 400,
      detail: 'invalid request: /version is not allowed',
    })
    // A misspelt parameter is refused by name: ignored, it would unload every version.
    expect(
      await problem(await post('/v2/repository/models/bad/unload', { parameters: { verison: 1 } })),
    ).toEqual({
      status: 400,
      detail:
        'parameters/verison: is not a parameter of this call (it takes version, unload_dependents)',
    })
    const user = await post('/v2/repository/index', undefined, h.tokens.user)
    expect(user.status).toBe(403)
    // Refused before its body is looked at.
    const userMalformed = await post('/v2/repository/models/bad/load', { x: 1 }, h.tokens.user)
    expect(userMalformed.status).toBe(403)
    const anonymous = await h.rest('/v2/repository/index', { method: 'POST', token: null })
    expect(anonymous.status).toBe(401)
    expect(await index()).not.toContainEqual(expect.objectContaining({ name: 'bad' }))
  })
})
