import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier, generateDevSecret, mintDevToken, type Role } from '@argmax/auth'
import { NotFoundError, RateLimitedError } from '@argmax/errors'
import { createLogger, createPrometheusMetrics } from '@argmax/telemetry'
import { createServiceApp, readinessChecks, requestPrincipal } from '../src/index.ts'

const secret = generateDevSecret()
const bearer = async (roles: Role[] = ['user']) => ({
  authorization: `Bearer ${await mintDevToken({ secret, subject: 'alice', roles, ttl: 300 })}`,
})

const logLines: Record<string, unknown>[] = []
const logger = createLogger({
  service: 'demo',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line))
      done()
    },
  }),
})

// The database the demo service depends on, as its readiness probe sees it.
let databaseUp = false
const prometheus = createPrometheusMetrics({ serviceName: 'demo' })
const uploads = prometheus
  .meter()
  .createCounter('demo_uploads', { description: 'Uploads accepted' })
let handlerCalls = 0
let app: FastifyInstance

beforeAll(async () => {
  app = await createServiceApp({
    service: 'demo',
    version: '1.0.0',
    logger,
    verifier: createVerifier({ mode: 'hs256', secret }),
    ready: readinessChecks({
      database: async () => {
        if (!databaseUp) throw new Error('connection refused')
      },
      queue: async () => true,
    }),
    metrics: prometheus.metricsText,
    bodyLimit: 1024,
    newRequestId: () => 'req-fixed',
  })
  app.post<{ Body: { name: string; size: number; tags?: string[] } }>(
    '/uploads',
    {
      schema: {
        summary: 'Start an upload',
        body: {
          type: 'object',
          required: ['name', 'size'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1 },
            size: { type: 'integer', minimum: 1 },
            tags: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
    async (request, reply) => {
      handlerCalls += 1
      uploads.add(1, { owner: requestPrincipal(request).subject })
      return reply.code(201).send({ owner: requestPrincipal(request).subject, ...request.body })
    },
  )
  app.get<{ Querystring: { limit: number } }>(
    '/uploads',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 100 } },
        },
      },
    },
    async () => ({ items: [] }),
  )
  app.get('/uploads/:id', async (request) => {
    throw new NotFoundError('upload', (request.params as { id: string }).id)
  })
  app.get('/busy', async () => {
    throw new RateLimitedError('5 requests per hour', 120)
  })
  app.get('/bug', async () => {
    throw new TypeError("Cannot read properties of undefined (reading 'secretStuff')")
  })
  await app.ready()
})

afterAll(async () => {
  await app.close()
  await prometheus.shutdown()
})

describe('operational routes', () => {
  it('/healthz answers 200 without a token', async () => {
    const response = await app.inject({ url: '/healthz' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ok' })
  })

  it('/readyz answers 503 naming the failed check, then 200 once it recovers', async () => {
    databaseUp = false
    const down = await app.inject({ url: '/readyz' })
    expect(down.statusCode).toBe(503)
    expect(down.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(down.json()).toMatchObject({
      status: 503,
      detail: 'not ready: database (connection refused)',
      checks: { database: { ok: false, error: 'connection refused' }, queue: { ok: true } },
    })
    databaseUp = true
    const up = await app.inject({ url: '/readyz' })
    expect(up.statusCode).toBe(200)
    expect(up.json()).toEqual({
      status: 'ready',
      checks: { database: { ok: true }, queue: { ok: true } },
    })
  })

  it('/metrics serves Prometheus text with the service’s counters', async () => {
    await app.inject({
      method: 'POST',
      url: '/uploads',
      headers: await bearer(),
      payload: { name: 'houses.csv', size: 10 },
    })
    const response = await app.inject({ url: '/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(response.body).toContain('# TYPE demo_uploads_total counter')
    expect(response.body).toMatch(/^demo_uploads_total\{owner="alice"[^}]*\} 1$/m)
  })

  it('/docs serves the OpenAPI document with bearer auth and the service’s routes', async () => {
    const ui = await app.inject({ url: '/docs' })
    expect([200, 302]).toContain(ui.statusCode)
    const spec = (await app.inject({ url: '/docs/json' })).json()
    expect(spec.info).toEqual({ title: 'Argmax demo API', version: '1.0.0' })
    expect(spec.components.securitySchemes.bearerAuth).toEqual({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    })
    expect(
      spec.paths['/uploads'].post.requestBody.content['application/json'].schema.required,
    ).toEqual(['name', 'size'])
    expect(spec.paths['/healthz'].get.security).toEqual([])
  })
})

describe('authentication', () => {
  it('refuses an API route without a token with 401 problem+json', async () => {
    const response = await app.inject({ url: '/uploads' })
    expect(response.statusCode).toBe(401)
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(response.headers['www-authenticate']).toBe('Bearer realm="argmax"')
  })

  it('refuses an unknown route without a token with 401, with one with 404 problem+json', async () => {
    expect((await app.inject({ url: '/nowhere' })).statusCode).toBe(401)
    const response = await app.inject({ url: '/nowhere?x=1', headers: await bearer() })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ status: 404, detail: 'no route GET /nowhere' })
  })
})

describe('errors as problem+json', () => {
  it('names every invalid body field', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/uploads',
      headers: await bearer(),
      payload: { size: 0, tags: ['a', { nested: true }], colour: 'red' },
    })
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    const problem = response.json()
    expect(problem).toMatchObject({
      type: 'https://argmax.dev/problems/validation',
      title: 'Bad Request',
      status: 400,
      instance: '/uploads',
    })
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { field: '/name', message: 'is required' },
        { field: '/size', message: 'must be >= 1' },
        { field: '/colour', message: 'is not allowed' },
        { field: '/tags/1', message: 'must be string' },
      ]),
    )
    expect(problem.detail).toContain('/name is required')
  })

  it('names an invalid query parameter', async () => {
    const response = await app.inject({ url: '/uploads?limit=1000', headers: await bearer() })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors).toEqual([{ field: 'query/limit', message: 'must be <= 100' }])
  })

  it('answers malformed JSON with 400 on the body', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/uploads',
      headers: { ...(await bearer()), 'content-type': 'application/json' },
      payload: '{"name": ',
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors[0].field).toBe('body')
  })

  it('refuses a body over the limit with 413 without running the handler', async () => {
    const before = handlerCalls
    const headers = await bearer()
    // The refused request's linger ends on a timer: it must end an injected request quietly too.
    vi.useFakeTimers({ toFake: ['setTimeout'] })
    const response = await app
      .inject({
        method: 'POST',
        url: '/uploads',
        headers,
        payload: { name: 'x'.repeat(2000), size: 1 },
      })
      .finally(() => {
        vi.advanceTimersByTime(10_000)
        vi.useRealTimers()
      })
    expect(response.statusCode).toBe(413)
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(response.json()).toMatchObject({
      status: 413,
      title: 'Content Too Large',
      field: 'body',
      limit: 1024,
    })
    expect(handlerCalls).toBe(before)
  })

  it('maps thrown domain errors, with Retry-After for rate limits', async () => {
    const missing = await app.inject({ url: '/uploads/u9', headers: await bearer() })
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toMatchObject({
      detail: 'upload u9 not found',
      what: 'upload',
      id: 'u9',
    })
    const busy = await app.inject({ url: '/busy', headers: await bearer() })
    expect(busy.statusCode).toBe(429)
    expect(busy.headers['retry-after']).toBe('120')
  })

  it('hides the details of an unexpected error from the client and logs them', async () => {
    const response = await app.inject({ url: '/bug', headers: await bearer() })
    expect(response.statusCode).toBe(500)
    expect(response.json()).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'an unexpected error occurred',
      instance: '/bug',
    })
    const logged = logLines.find((line) => line['msg'] === 'request failed')
    expect(logged).toMatchObject({ level: 'error', service: 'demo', reqId: 'req-fixed' })
    expect(JSON.stringify(logged)).toContain('secretStuff')
  })

  it('echoes the request id', async () => {
    const response = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } })
    expect(response.headers['x-request-id']).toBe('abc-123')
  })
})
