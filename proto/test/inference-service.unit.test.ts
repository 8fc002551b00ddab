import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INFERENCE_SERVICE_NAME, loadInferenceService } from '../src/index.ts'

type Unary = (
  request: Record<string, unknown>,
  callback: (error: grpc.ServiceError | null, response: Record<string, unknown>) => void,
) => void

const service = loadInferenceService()

describe('the v2 inference service definition', () => {
  it('has the paths stock Triton and KServe clients call', () => {
    const paths = Object.values(service).map((method) => method.path)
    expect(paths).toEqual(
      [
        'ServerLive',
        'ServerReady',
        'ModelReady',
        'ServerMetadata',
        'ModelMetadata',
        'ModelInfer',
        'ModelConfig',
        'RepositoryIndex',
        'RepositoryModelLoad',
        'RepositoryModelUnload',
      ].map((name) => `/${INFERENCE_SERVICE_NAME}/${name}`),
    )
  })
})

describe('a call over loopback with the loaded definition', () => {
  const server = new grpc.Server()
  let client: grpc.Client & Record<string, Unary>

  beforeAll(async () => {
    server.addService(service, {
      ModelInfer(
        call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) {
        const request = call.request as {
          model_name: string
          id: string
          inputs: { name: string; datatype: string; shape: string[] }[]
          raw_input_contents: Buffer[]
        }
        callback(null, {
          model_name: request.model_name,
          id: request.id,
          outputs: request.inputs.map((input) => ({ ...input, name: `${input.name}_echo` })),
          raw_output_contents: request.raw_input_contents,
        })
      },
    })
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    )
    const Client = grpc.makeGenericClientConstructor(service, INFERENCE_SERVICE_NAME)
    client = new Client(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as typeof client
  })

  afterAll(() => {
    client.close()
    server.forceShutdown()
  })

  const call = (method: string, request: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      client[method]!(request, (error, response) => (error ? reject(error) : resolve(response))),
    )

  it('carries raw tensor bytes and int64 shapes past 2^53 unchanged', async () => {
    const values = Buffer.from(new Float32Array([1.5, -2, 3.25]).buffer)
    const response = await call('ModelInfer', {
      model_name: 'movies',
      id: 'request-1',
      inputs: [{ name: 'budget', datatype: 'FP32', shape: ['9007199254740993', '3'] }],
      raw_input_contents: [values],
    })
    expect(response).toMatchObject({
      model_name: 'movies',
      id: 'request-1',
      outputs: [{ name: 'budget_echo', datatype: 'FP32', shape: ['9007199254740993', '3'] }],
    })
    const [raw] = response['raw_output_contents'] as Buffer[]
    expect([0, 4, 8].map((offset) => raw!.readFloatLE(offset))).toEqual([1.5, -2, 3.25])
  })

  it('answers UNIMPLEMENTED for a call the server does not serve', async () => {
    await expect(call('ServerLive', {})).rejects.toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
    })
  })
})
