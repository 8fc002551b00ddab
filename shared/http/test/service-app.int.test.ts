import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, generateDevSecret, mintDevToken } from '@argmax/auth'
import { createLogger, startTelemetry } from '@argmax/telemetry'
import { connectNats, freshSchema } from '@argmax/testkit'
import { createServiceApp, listen, readinessChecks, requestPrincipal } from '../src/index.ts'

// Real tracer provider (no exporter) so the handler's log lines carry the caller's trace.
const telemetry = startTelemetry({ serviceName: 'shell-int', env: {} })
const secret = generateDevSecret()
const logLines: Record<string, unknown>[] = []
let app: FastifyInstance
let baseUrl: string
let schema: string
let pool: Awaited<ReturnType<typeof freshSchema>>['pool']
let handlerCalls = 0

beforeAll(async () => {
  ;({ schema, pool } = await freshSchema('http_readiness'))
  const nats = await connectNats()
  app = await createServiceApp({
    service: 'shell-int',
    logger: createLogger({
      service: 'shell-int',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line))
          done()
        },
      }),
    }),
    verifier: createVerifier({ mode: 'hs256', secret }),
    // Ready once the backbone answers and the projection's table has been migrated.
    ready: readinessChecks({
      nats: () => nats.flush(),
      postgres: () => pool.query(`select 1 from "${schema}".checkpoints limit 1`),
    }),
    metrics: telemetry.metricsText,
    bodyLimit: 64 * 1024,
  })
  app.post('/datasets', async (request) => {
    handlerCalls += 1
    request.log.info('creating dataset')
    return { owner: requestPrincipal(request).subject }
  })
  baseUrl = await listen(app, { host: '127.0.0.1', port: 0 })
})

afterAll(async () => {
  await app.close()
  await telemetry.shutdown()
})

describe('the service shell on a real socket', () => {
  it('listen() returns the bound URL', () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('/readyz is 503 naming postgres until its table exists, then 200', async () => {
    const down = await fetch(`${baseUrl}/readyz`)
    expect(down.status).toBe(503)
    const problem = (await down.json()) as { detail: string; checks: Record<string, unknown> }
    expect(problem.detail).toMatch(
      /^not ready: postgres \(relation ".*checkpoints" does not exist\)$/,
    )
    expect(problem.checks['nats']).toEqual({ ok: true })
    await pool.query(`create table "${schema}".checkpoints (name text primary key, seq bigint)`)
    const up = await fetch(`${baseUrl}/readyz`)
    expect(up.status).toBe(200)
    expect(await up.json()).toEqual({
      status: 'ready',
      checks: { nats: { ok: true }, postgres: { ok: true } },
    })
  })

  it('refuses a declared oversized body with 413 before the body is sent', async () => {
    const token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 60 })
    const before = handlerCalls
    // Announce 50 MiB and send none of it: the answer must come from the headers alone.
    const { status, contentType, body } = await new Promise<{
      status: number
      contentType: string
      body: string
    }>((resolve, reject) => {
      const request = httpRequest(`${baseUrl}/datasets`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': String(50 * 1024 * 1024),
        },
      })
      request.on('error', reject)
      request.on('response', (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type']),
            body: Buffer.concat(chunks).toString(),
          })
          request.destroy()
        })
      })
      request.flushHeaders()
    })
    expect(status).toBe(413)
    expect(contentType).toBe('application/problem+json; charset=utf-8')
    expect(JSON.parse(body)).toMatchObject({
      status: 413,
      detail: `body is ${50 * 1024 * 1024} bytes; the limit is ${64 * 1024} bytes`,
    })
    expect(handlerCalls).toBe(before)
  })

  it('answers 413 also to a client that sends the whole body before it reads (as Python does)', async () => {
    const token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 60 })
    const before = handlerCalls
    const body = Buffer.alloc(8 * 1024 * 1024, 'x')
    const { port } = new URL(baseUrl)
    // Python's http.client: headers and the whole body written, then the answer read. A
    // connection closed on it while it writes is a broken pipe, and it never sees the 413.
    for (let attempt = 0; attempt < 3; attempt++) {
      const statusLine = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1')
        socket.pause()
        let answer = ''
        socket.on('error', reject)
        socket.on('data', (chunk: Buffer) => {
          answer += chunk.toString()
          if (answer.includes('\r\n')) {
            resolve(answer.split('\r\n')[0]!)
            socket.destroy()
          }
        })
        socket.write(
          `POST /datasets HTTP/1.1\r\nhost: argmax\r\nauthorization: Bearer ${token}\r\n` +
            `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
        )
        socket.write(body, (error) => (error ? reject(error) : socket.resume()))
      })
      expect(statusLine).toBe('HTTP/1.1 413 Payload Too Large')
    }
    expect(handlerCalls).toBe(before)
  })

  it('closes a refused connection whose client sends nothing more, after its linger', async () => {
    const { port } = new URL(baseUrl)
    const socket = connect(Number(port), '127.0.0.1')
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    socket.write(
      `POST /datasets HTTP/1.1\r\nhost: argmax\r\ncontent-type: application/json\r\n` +
        `authorization: Bearer ${await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 60 })}\r\n` +
        `content-length: ${50 * 1024 * 1024}\r\n\r\n`,
    )
    await closed
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large')
  }, 20_000)

  it("answers what Node's HTTP parser refuses as problem+json: oversized headers, a malformed request", async () => {
    const { port } = new URL(baseUrl)
    const exchange = (text: string) =>
      new Promise<{ head: string; body: unknown }>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1')
        let answer = ''
        socket.on('error', reject)
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
        socket.on('close', () => {
          const [head, body] = answer.split('\r\n\r\n')
          resolve({ head: head!, body: JSON.parse(body!) })
        })
        socket.write(text)
      })

    const oversized = await exchange(
      `GET /datasets HTTP/1.1\r\nhost: argmax\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    )
    expect(oversized.head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
    expect(oversized.head).toContain('Content-Type: application/problem+json')
    expect(oversized.body).toEqual({
      type: 'about:blank',
      title: 'Request Header Fields Too Large',
      status: 431,
      detail: expect.stringMatching(/^the request line and headers exceed \d+ bytes$/),
    })

    const malformed = await exchange('GET /datasets HTTP/1.1\r\nno colon here\r\n\r\n')
    expect(malformed.head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(malformed.body).toMatchObject({
      status: 400,
      detail: expect.stringMatching(/^not a valid HTTP request \(HPE_/),
    })
  })

  it('answers a request that arrives while it closes with 503 and Retry-After, after finishing the one in flight', async () => {
    let entered: () => void = () => undefined
    const inHandler = new Promise<void>((resolve) => (entered = resolve))
    let finish: () => void = () => undefined
    const finished = new Promise<void>((resolve) => (finish = resolve))
    const closing = await createServiceApp({
      service: 'draining',
      logger: createLogger({ service: 'draining', level: 'silent' }),
      verifier: createVerifier({ mode: 'hs256', secret }),
      ready: async () => true,
      publicPaths: ['/slow'],
    })
    closing.get('/slow', async () => {
      entered()
      await finished
      return { done: true }
    })
    // The refusal is sent (Node holds it until the answer before it has gone) before the first
    // request is let go.
    let refused: () => void = () => undefined
    const refusal = new Promise<void>((resolve) => (refused = resolve))
    closing.addHook('onSend', async (_request, reply) => {
      if (reply.statusCode === 503) refused()
    })
    const { port } = new URL(await listen(closing, { host: '127.0.0.1', port: 0 }))
    const socket = connect(Number(port), '127.0.0.1')
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    // The first request is in its handler when the app begins to close; the second comes on the
    // same kept-alive connection after that, as a client's next request would.
    socket.write('GET /slow HTTP/1.1\r\nhost: argmax\r\n\r\n')
    await inHandler
    const closed = closing.close()
    // The server stops listening once its preClose hooks have run: from then on it is closing.
    while (closing.server.listening) await new Promise((resolve) => setImmediate(resolve))
    socket.write('GET /slow HTTP/1.1\r\nhost: argmax\r\n\r\n')
    await refusal
    finish()
    await ended
    await closed
    const [first, second] = answer.split(/(?=HTTP\/1\.1 )/)
    expect(first).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(first).toContain('{"done":true}')
    expect(second).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/)
    expect(second).toMatch(/\r\nretry-after: 1\r\n/i)
    expect(second).toMatch(/\r\ncontent-type: application\/problem\+json/i)
    expect(second).toContain('draining is shutting down')
  }, 15_000)

  it('continues the caller’s trace: handler logs carry the incoming trace id', async () => {
    const token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 60 })
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const response = await fetch(`${baseUrl}/datasets`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ name: 'houses' }),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ owner: 'alice' })
    const line = logLines.find((entry) => entry['msg'] === 'creating dataset')
    expect(line).toMatchObject({ trace_id: traceId, service: 'shell-int' })
    expect(line?.['span_id']).not.toBe('00f067aa0ba902b7')
  })
})
