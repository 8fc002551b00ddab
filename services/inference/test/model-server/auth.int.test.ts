import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { service as healthService } from 'grpc-health-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { V2Method } from '../../src/model-server/index.ts'
import { LINEAR_SIGNATURE, writeTestModels } from '@argmax/testkit/onnx-models'
import { forged } from '@argmax/testkit/forged'
import {
  fp32Bytes,
  linearConfig,
  loadParameters,
  startHarness,
  type Harness,
} from './support/harness.ts'

let h: Harness
let artifact: { artifactUri: string; sha256: string }

beforeAll(async () => {
  const models = await writeTestModels([0.5])
  h = await startHarness()
  artifact = await h.upload('linear/model.onnx', models.linear.get(0.5)!.bytes)
  await h.load('linear', '1', linearConfig(artifact, LINEAR_SIGNATURE))
})
afterAll(() => h?.stop())

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise
  } catch (error) {
    return error as grpc.ServiceError
  }
  throw new Error('expected the call to fail')
}

const inferRequest = {
  model_name: 'linear',
  inputs: [
    { name: 'x1', datatype: 'FP32', shape: [1] },
    { name: 'x2', datatype: 'FP32', shape: [1] },
  ],
  raw_input_contents: [fp32Bytes([1]), fp32Bytes([2])],
}

const requests: Record<V2Method, Record<string, unknown>> = {
  ServerLive: {},
  ServerReady: {},
  ModelReady: { name: 'linear', version: '1' },
  ServerMetadata: {},
  ModelMetadata: { name: 'linear', version: '1' },
  ModelInfer: inferRequest,
  ModelConfig: { name: 'linear', version: '1' },
  RepositoryIndex: {},
  RepositoryModelLoad: {
    model_name: 'linear',
    parameters: loadParameters(
      '1',
      linearConfig({ artifactUri: 's3://b/k', sha256: 'c'.repeat(64) }, LINEAR_SIGNATURE),
    ),
  },
  RepositoryModelUnload: { model_name: 'linear', parameters: { version: { string_param: '1' } } },
}

describe('authentication and roles', () => {
  it.each(Object.keys(requests) as V2Method[])(
    '%s without a token is UNAUTHENTICATED',
    async (method) => {
      const error = await failure(h.grpc.call(method, requests[method], { token: '' }))
      expect(error.code).toBe(grpc.status.UNAUTHENTICATED)
      expect(error.details).toBe('a bearer token is required')
    },
  )

  it('refuses a forged token', async () => {
    const error = await failure(
      h.grpc.call('ModelInfer', inferRequest, { token: forged(h.tokens.admin) }),
    )
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED)
  })

  it.each(['RepositoryIndex', 'RepositoryModelLoad', 'RepositoryModelUnload'] as V2Method[])(
    '%s needs the admin role: PERMISSION_DENIED for user, internal and analyst',
    async (method) => {
      for (const role of ['user', 'internal', 'analyst'] as const) {
        const error = await failure(
          h.grpc.call(method, requests[method], { token: h.tokens[role] }),
        )
        expect(error.code).toBe(grpc.status.PERMISSION_DENIED)
        expect(error.details).toBe('this operation requires one of the roles admin')
      }
      // Nothing was unloaded by the refused calls.
      expect(await h.grpc.call('ModelReady', { name: 'linear', version: '1' })).toEqual({
        ready: true,
      })
    },
  )

  it('lets every platform role infer, read metadata, configuration and readiness', async () => {
    for (const role of ['user', 'internal', 'analyst', 'admin'] as const) {
      const options = { token: h.tokens[role] }
      await expect(h.grpc.call('ModelInfer', inferRequest, options)).resolves.toMatchObject({
        model_name: 'linear',
        model_version: '1',
      })
      await expect(
        h.grpc.call('ModelMetadata', requests.ModelMetadata, options),
      ).resolves.toMatchObject({
        name: 'linear',
      })
      await expect(
        h.grpc.call('ModelConfig', requests.ModelConfig, options),
      ).resolves.toMatchObject({ config: { name: 'linear' } })
      await expect(h.grpc.call('ServerReady', {}, options)).resolves.toEqual({ ready: true })
    }
  })

  it('guards the REST form the same way', async () => {
    const body = JSON.stringify({
      inputs: [
        { name: 'x1', datatype: 'FP32', shape: [1], data: [1] },
        { name: 'x2', datatype: 'FP32', shape: [1], data: [2] },
      ],
    })
    const anonymous = await h.rest('/v2/models/linear/infer', { method: 'POST', body, token: null })
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="argmax"')
    expect((await h.rest('/v2/health/live', { token: null })).status).toBe(401)
    const user = await h.rest('/v2/models/linear/infer', {
      method: 'POST',
      body,
      token: h.tokens.user,
    })
    expect(user.status).toBe(200)
    // The operational endpoints stay open for probes and scrapers.
    expect((await h.rest('/healthz', { token: null })).status).toBe(200)
    expect((await h.rest('/readyz', { token: null })).status).toBe(200)
    expect((await h.rest('/metrics', { token: null })).status).toBe(200)
  })
})

describe('the standard gRPC services, open to probes', () => {
  it('answers the gRPC health check without a token', async () => {
    const Health = grpc.makeGenericClientConstructor(
      healthService as grpc.ServiceDefinition,
      'Health',
    )
    const client = new Health(h.server.grpcAddress, grpc.credentials.createInsecure())
    try {
      const check = (service: string) =>
        new Promise((resolve, reject) =>
          (
            client as unknown as Record<
              string,
              (r: unknown, cb: (e: unknown, r: unknown) => void) => void
            >
          )['check']!.call(client, { service }, (error, response) =>
            error ? reject(error) : resolve(response),
          ),
        )
      await expect(check('')).resolves.toEqual({ status: 'SERVING' })
      await expect(check('inference.GRPCInferenceService')).resolves.toEqual({ status: 'SERVING' })
    } finally {
      client.close()
    }
  })

  it('describes the v2 service through server reflection', async () => {
    const reflectionProto = join(
      dirname(createRequire(import.meta.url).resolve('@grpc/reflection')),
      '../proto/grpc/reflection/v1/reflection.proto',
    )
    const loaded = grpc.loadPackageDefinition(
      protoLoader.loadSync(reflectionProto, { keepCase: true, defaults: true, oneofs: true }),
    ) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } }
    }
    const client = new loaded.grpc.reflection.v1.ServerReflection(
      h.server.grpcAddress,
      grpc.credentials.createInsecure(),
    )
    try {
      const services = await new Promise<string[]>((resolve, reject) => {
        const stream = (
          client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, unknown> }
        ).ServerReflectionInfo()
        stream.on(
          'data',
          (response: { list_services_response?: { service: { name: string }[] } }) => {
            resolve(response.list_services_response?.service.map((s) => s.name) ?? [])
            stream.end()
          },
        )
        stream.on('error', reject)
        stream.write({ list_services: '' })
      })
      expect(services).toContain('inference.GRPCInferenceService')
    } finally {
      client.close()
    }
  })
})
