import { randomUUID } from 'node:crypto'
import { freePort } from '@argmax/stack'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createV2Client } from '../../src/model-server/index.ts'
import { LINEAR_SIGNATURE, writeTestModels } from '@argmax/testkit/onnx-models'
import { spawnModelServer, type ModelServerProcess } from './support/model-server-process.ts'
import { startGatewayHarness, type GatewayHarness } from './support/gateway-harness.ts'
import { generateDevSecret, mintDevToken } from '@argmax/auth'

/** Model servers as real processes, killed with SIGKILL while the gateway is under load. */
let h: GatewayHarness
const secret = generateDevSecret()
const ports: Array<{ grpc: number; http: number }> = []
const servers: ModelServerProcess[] = []

beforeAll(async () => {
  for (let i = 0; i < 2; i++) ports.push({ grpc: await freePort(), http: await freePort() })
  for (const port of ports)
    servers.push(await spawnModelServer({ secret, grpcPort: port.grpc, httpPort: port.http }))
  const models = await writeTestModels([1])
  h = await startGatewayHarness({
    modelServers: 0,
    modelServerAddresses: servers.map((s) => s.address),
    secret,
  })
  await h.registry.registerVersion('movies', 1, models.linear.get(1)!.bytes, LINEAR_SIGNATURE)
  await h.registry.release('movies', { stable: 1 })
  await h.waitServing('movies')
  await waitUntil(() => h.gateway.deps.pool.health().every((s) => s.up && s.versions === 1))
}, 180_000)
afterAll(async () => {
  await h?.stop()
  await Promise.all(servers.map((s) => s.kill('SIGTERM')))
})

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Requests at `concurrency` until `stop()`; counts answers by status. */
function underLoad(concurrency: number) {
  const statuses = new Map<number, number>()
  let stopped = false
  const running = Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stopped) {
        const answer = await h.rest(
          'POST',
          '/v1/models/movies:predict',
          h.tokens.alice,
          { instances: [{ x1: 1, x2: 1 }] },
          {
            'x-request-id': randomUUID(),
          },
        )
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
      }
    }),
  )
  return {
    statuses,
    async stop() {
      stopped = true
      await running
    },
  }
}

describe('a model server killed under load', () => {
  it('costs no more than the requests in flight: they are retried on the other replica', async () => {
    const concurrency = 8
    const traffic = underLoad(concurrency)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    await servers[0]!.kill('SIGKILL')
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    await traffic.stop()
    const failed = [...traffic.statuses]
      .filter(([code]) => code !== 200)
      .reduce((sum, [, n]) => sum + n, 0)
    expect(traffic.statuses.get(200)).toBeGreaterThan(50)
    expect(failed, JSON.stringify([...traffic.statuses])).toBeLessThanOrEqual(concurrency)
    expect(h.gateway.deps.pool.health()[0]).toMatchObject({ up: false })
  })

  it('loads the versions again on a model server that comes back, and serves from it alone', async () => {
    servers[0] = await spawnModelServer({
      secret,
      grpcPort: ports[0]!.grpc,
      httpPort: ports[0]!.http,
    })
    await waitUntil(
      () => h.gateway.deps.pool.health()[0]!.up && h.gateway.deps.pool.health()[0]!.versions === 1,
    )
    const admin = createV2Client(servers[0]!.address, {
      token: await mintDevToken({ secret, subject: 'root', roles: ['admin'], ttl: 60 }),
    })
    const index = await admin.call<{ models: { name: string; version: string; state: string }[] }>(
      'RepositoryIndex',
      {},
    )
    admin.close()
    expect(index.models).toEqual([
      expect.objectContaining({ name: 'movies', version: '1', state: 'READY' }),
    ])

    await servers[1]!.kill('SIGKILL')
    const traffic = underLoad(4)
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    await traffic.stop()
    const failed = [...traffic.statuses]
      .filter(([code]) => code !== 200)
      .reduce((sum, [, n]) => sum + n, 0)
    expect(failed).toBeLessThanOrEqual(4)
    expect(traffic.statuses.get(200)).toBeGreaterThan(20)
  })
})
