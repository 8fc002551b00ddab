import { createVerifier, generateDevSecret, mintDevToken, type Verifier } from '@argmax/auth'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import {
  cachedVerifier,
  configParameter,
  isBatchable,
  prepareInputs,
  versionParameter,
  type WireInput,
} from '../../src/model-server/index.ts'
import { identityModel } from '../../src/model-server/onnx/provider-probe.ts'
import { LINEAR_SIGNATURE } from '@argmax/testkit/onnx-models'
import { forged } from '@argmax/testkit/forged'

const defaults = { maxBatchSize: 64, maxQueueDelayMicroseconds: 0, instanceCount: 1 }
const validConfig = {
  artifactUri: 's3://argmax-models/movies/3/model.onnx',
  sha256: 'f'.repeat(64),
  signature: LINEAR_SIGNATURE,
}

describe('the repository load convention', () => {
  it('reads version and config from string, int64 or bytes parameters and applies defaults', () => {
    expect(
      versionParameter({ version: { parameter_choice: 'string_param', string_param: '3' } }),
    ).toBe('3')
    expect(
      versionParameter({ version: { parameter_choice: 'int64_param', int64_param: '12' } }),
    ).toBe('12')
    expect(versionParameter({})).toBeUndefined()
    const config = configParameter(
      {
        config: {
          parameter_choice: 'bytes_param',
          bytes_param: Buffer.from(
            JSON.stringify({ ...validConfig, dynamicBatching: { maxQueueDelayMicroseconds: 250 } }),
          ),
        },
      },
      defaults,
    )
    expect(config).toEqual({
      artifact: { bucket: 'argmax-models', key: 'movies/3/model.onnx' },
      artifactUri: validConfig.artifactUri,
      sha256: validConfig.sha256,
      signature: LINEAR_SIGNATURE,
      maxBatchSize: 64,
      maxQueueDelayMicroseconds: 250,
      instanceCount: 1,
    })
  })

  it('refuses what is not JSON, and a version that is not a positive integer', () => {
    expect(() =>
      configParameter(
        { config: { parameter_choice: 'string_param', string_param: '{' } },
        defaults,
      ),
    ).toThrow(/^parameters\/config: is not JSON: /)
    expect(() =>
      versionParameter({ version: { parameter_choice: 'string_param', string_param: '0' } }),
    ).toThrow(
      expect.objectContaining({
        message: 'parameters/version: must be a positive integer, got "0"',
        issues: [{ field: 'parameters/version', message: 'must be a positive integer, got "0"' }],
      }),
    )
    expect(() =>
      versionParameter({ version: { parameter_choice: 'bool_param', bool_param: true } }),
    ).toThrow('parameters/version: must be a string_param or int64_param')
  })
})

describe('prepareInputs', () => {
  const input = (name: string, shape: number[], values: number[]): WireInput => ({
    name,
    datatype: 'FP32',
    shape,
    values: () => new Float32Array(values),
  })

  it('runs a version with a fixed first dimension request by request (rows 1)', () => {
    const fixed = {
      ...LINEAR_SIGNATURE,
      inputs: LINEAR_SIGNATURE.inputs.map((spec) => ({ ...spec, shape: [2] })),
    }
    expect(isBatchable(fixed)).toBe(false)
    expect(isBatchable(LINEAR_SIGNATURE)).toBe(true)
    const prepared = prepareInputs(fixed, [input('x2', [2], [1, 2]), input('x1', [2], [3, 4])])
    expect(prepared.rows).toBe(1)
    expect(prepared.tensors.map((tensor) => tensor.name)).toEqual(['x1', 'x2'])
    expect(() =>
      prepareInputs(fixed, [input('x1', [3], [1, 2, 3]), input('x2', [2], [1, 2])]),
    ).toThrow("inputs/x1: shape [3] does not fit the model's [2]")
  })

  it('refuses a shape that is not whole numbers, and one too large to hold, before decoding', () => {
    let decoded = false
    const never: WireInput = {
      name: 'x1',
      datatype: 'FP32',
      shape: ['-1'],
      values: () => {
        decoded = true
        return new Float32Array()
      },
    }
    expect(() => prepareInputs(LINEAR_SIGNATURE, [never, input('x2', [1], [1])])).toThrow(
      'inputs/x1: shape [-1] must hold whole numbers ≥ 0',
    )
    expect(() =>
      prepareInputs(LINEAR_SIGNATURE, [{ ...never, shape: ['4294967296'] }, input('x2', [1], [1])]),
    ).toThrow('inputs/x1: shape [4294967296] holds more than 2147483647 elements')
    expect(decoded).toBe(false)
  })
})

describe('cachedVerifier', () => {
  it('verifies a token once until it expires, and never caches a refusal', async () => {
    const secret = generateDevSecret()
    let now = Date.now()
    let verifications = 0
    const real = createVerifier({ mode: 'hs256', secret })
    const counting: Verifier = {
      verify: (token) => {
        verifications++
        return real.verify(token)
      },
      authenticate: real.authenticate,
    }
    const verifier = cachedVerifier(counting, { now: () => now })
    const token = await mintDevToken({ secret, subject: 'gateway', roles: ['admin'], ttl: 60 })
    const header = `Bearer ${token}`
    await expect(verifier.authenticate(header)).resolves.toEqual({
      subject: 'gateway',
      roles: ['admin'],
    })
    await verifier.authenticate(header)
    expect(verifications).toBe(1)
    now += 61_000
    await verifier.authenticate(header).catch(() => undefined)
    expect(verifications).toBe(2)
    const forgedToken = forged(token)
    await expect(verifier.verify(forgedToken)).rejects.toMatchObject({ kind: 'unauthenticated' })
    await expect(verifier.verify(forgedToken)).rejects.toMatchObject({ kind: 'unauthenticated' })
    expect(verifications).toBe(4)
    await expect(verifier.authenticate(undefined)).rejects.toThrow('a bearer token is required')
  })
})

describe('the execution provider probe', () => {
  it('is a valid ONNX model that ONNX Runtime runs on the CPU', async () => {
    const session = await ort.InferenceSession.create(identityModel(), {
      executionProviders: ['cpu'],
    })
    const { y } = await session.run({ x: new ort.Tensor('float32', new Float32Array([4.5]), [1]) })
    expect(Array.from(y!.data as Float32Array)).toEqual([4.5])
    await session.release()
  })
})
