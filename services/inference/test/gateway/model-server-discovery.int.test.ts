import { createHash } from 'node:crypto'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LINEAR_SIGNATURE, writeTestModels, type TestModels } from '@argmax/testkit/onnx-models'
import { createV2Client } from '../../src/model-server/index.ts'
import {
  startGatewayHarness,
  startTestModelServer,
  type GatewayHarness,
  type TestModelServer,
} from './support/gateway-harness.ts'

let h: GatewayHarness | undefined
let server: TestModelServer | undefined
afterEach(async () => {
  await h?.stop()
  await server?.stop()
  h = undefined
  server = undefined
})

const infer = (harness: GatewayHarness) =>
  harness.rest('POST', '/v2/models/movies/infer', harness.tokens.alice, {
    inputs: [
      { name: 'x1', datatype: 'FP32', shape: [1], data: [1] },
      { name: 'x2', datatype: 'FP32', shape: [1], data: [2] },
    ],
  })

describe('model servers found by name, loaded by someone else', () => {
  it('serves through model servers named dns:<name>:<port> (each resolved address a server)', async () => {
    const models: TestModels = await writeTestModels([1])
    const secret = generateDevSecret()
    server = await startTestModelServer(secret)
    const port = server.address.split(':').at(-1)!
    h = await startGatewayHarness({
      secret,
      modelServers: 0,
      env: { modelServers: [`dns:localhost:${port}`] },
    })
    await h.registry.registerVersion('movies', 1, models.linear.get(1)!.bytes, LINEAR_SIGNATURE)
    await h.registry.release('movies', { stable: 1 })
    await h.waitServing('movies')
    const answer = await infer(h)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(await server.inferCalls()).toBe(1)
  })

  it('in external mode loads nothing and serves what a model server reports READY', async () => {
    const models: TestModels = await writeTestModels([1])
    h = await startGatewayHarness({ modelServers: 1, env: { modelLoads: 'external' } })
    const onnx = models.linear.get(1)!.bytes
    await h.registry.registerVersion('movies', 1, onnx, LINEAR_SIGNATURE)
    await h.registry.release('movies', { stable: 1 })

    // Nobody loaded it: 503 naming why, and the model server's repository stays empty.
    // Until the gateway has read the release and the signature it refuses for those reasons
    // instead; wait for the settled one.
    const refused = await vi.waitFor(
      async () => {
        const answer = await infer(h!)
        expect(answer.status).toBe(503)
        expect(JSON.stringify(answer.body)).toContain('no model server reports it READY')
        return answer
      },
      { timeout: 30_000, interval: 100 },
    )
    expect(refused.headers['retry-after']).toBeDefined()
    const admin = createV2Client(h.modelServers[0]!.address, {
      token: await mintDevToken({ secret: h.secret, subject: 'root', roles: ['admin'], ttl: 60 }),
    })
    try {
      const index = (await admin.call('RepositoryIndex', {})) as { models: unknown[] }
      expect(index.models).toEqual([])

      // The operator (or Triton polling its repository) loads it; the gateway follows.
      await admin.call('RepositoryModelLoad', {
        model_name: 'movies',
        parameters: {
          version: { string_param: '1' },
          config: {
            string_param: JSON.stringify({
              artifactUri: `s3://${h.bucket}/models/movies/1/model.onnx`,
              sha256: createHash('sha256').update(onnx).digest('hex'),
              signature: LINEAR_SIGNATURE,
            }),
          },
        },
      })
      await h.waitServing('movies')
      const answer = await infer(h)
      expect(answer.status, JSON.stringify(answer.body)).toBe(200)

      // Unloaded there: the gateway stops sending it and answers 503 again.
      await admin.call('RepositoryModelUnload', {
        model_name: 'movies',
        parameters: { version: { string_param: '1' } },
      })
      let gone = await infer(h)
      for (let i = 0; i < 100 && gone.status === 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        gone = await infer(h)
      }
      expect(gone.status).toBe(503)
    } finally {
      admin.close()
    }
  })
})
