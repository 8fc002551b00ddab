import { createHash, randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEdge } from '../src/stack/edge.ts'
import { serviceNames, type ServiceName } from '../src/stack/services.ts'

/** A real HTTP server per service that says who answered and echoes what it received. */
async function fakeService(name: ServiceName): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: 64 << 20 })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
  app.all('/*', async (request) => {
    const body = request.body as Buffer | undefined
    return {
      service: name,
      method: request.method,
      url: request.url,
      authorization: request.headers.authorization ?? null,
      forwardedFor: request.headers['x-forwarded-for'] ?? null,
      bodySha256: body ? createHash('sha256').update(body).digest('hex') : null,
      bodyLength: body?.length ?? 0,
    }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return app
}

const urlOf = (app: FastifyInstance) =>
  `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

describe('the local edge', () => {
  const upstreams = new Map<ServiceName, FastifyInstance>()
  let edge: FastifyInstance
  let edgeUrl: string

  beforeAll(async () => {
    for (const name of serviceNames) upstreams.set(name, await fakeService(name))
    edge = await createEdge({
      upstreams: Object.fromEntries(
        [...upstreams].map(([name, app]) => [name, urlOf(app)]),
      ) as Record<ServiceName, string>,
    })
    await edge.listen({ host: '127.0.0.1', port: 0 })
    edgeUrl = urlOf(edge)
  })

  afterAll(async () => {
    await edge.close()
    await Promise.all([...upstreams.values()].map((app) => app.close()))
  })

  it.each([
    ['GET', '/v1/datasets?limit=2', 'dataset'],
    ['POST', '/v1/runs', 'training'],
    ['DELETE', '/v1/pipelines/p1', 'training'],
    ['GET', '/v1/models/movies/versions', 'registry'],
    ['POST', '/v1/models/movies:predict', 'inference'],
    ['POST', '/v2/models/movies/infer', 'inference'],
    ['PUT', '/v1/feedback/r1', 'feedback'],
  ])('%s %s reaches %s with path, query and credentials intact', async (method, url, service) => {
    const response = await fetch(`${edgeUrl}${url}`, {
      method,
      ...(method === 'GET' || method === 'DELETE'
        ? { headers: { authorization: 'Bearer abc' } }
        : {
            headers: { authorization: 'Bearer abc', 'content-type': 'application/json' },
            body: '{"x":1}',
          }),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      service,
      method,
      url,
      authorization: 'Bearer abc',
      forwardedFor: '127.0.0.1',
    })
  })

  it('streams a large body through unchanged', async () => {
    const body = randomBytes(8 << 20)
    const response = await fetch(`${edgeUrl}/v1/datasets/d1/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    })
    expect(await response.json()).toMatchObject({
      service: 'dataset',
      bodyLength: body.length,
      bodySha256: createHash('sha256').update(body).digest('hex'),
    })
  })

  it('passes a body sent after 100 Continue, as curl sends bodies over 1 MiB', async () => {
    const body = randomBytes(2 << 20)
    const { port } = new URL(edgeUrl)
    const answer = await new Promise<{ status: number; text: string; continued: boolean }>(
      (resolve, reject) => {
        let continued = false
        const request = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/datasets/d1/import',
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': body.length,
            expect: '100-continue',
          },
        })
        request.on('continue', () => {
          continued = true
          request.end(body)
        })
        request.on('response', (response) => {
          let text = ''
          response.setEncoding('utf8')
          response.on('data', (chunk: string) => (text += chunk))
          response.on('end', () => resolve({ status: response.statusCode!, text, continued }))
        })
        request.on('error', reject)
      },
    )
    expect(answer.continued).toBe(true)
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.text)).toMatchObject({
      service: 'dataset',
      bodyLength: body.length,
      bodySha256: createHash('sha256').update(body).digest('hex'),
    })
  })

  it('answers 404 problem+json for paths no service owns, and serves its own /healthz', async () => {
    const response = await fetch(`${edgeUrl}/v9/unknown`)
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/)
    expect(await response.json()).toMatchObject({ status: 404, instance: '/v9/unknown' })
    expect((await fetch(`${edgeUrl}/healthz`)).status).toBe(200)
  })

  it('answers headers over the limit with 431 problem+json, as the services do', async () => {
    const response = await fetch(`${edgeUrl}/v1/datasets`, {
      headers: { 'x-big': 'a'.repeat(20_000) },
    })
    expect(response.status).toBe(431)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(await response.json()).toMatchObject({
      status: 431,
      title: 'Request Header Fields Too Large',
    })
  })

  it('answers 503 problem+json naming the service when it is down', async () => {
    await upstreams.get('feedback')!.close()
    const response = await fetch(`${edgeUrl}/v1/feedback`)
    expect(response.status).toBe(503)
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/)
    // An infrastructure failure, like every 503 of the platform: the client may try again.
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/)
    expect((await response.json()) as { detail: string }).toMatchObject({
      detail: expect.stringContaining('feedback'),
    })
  })
})
