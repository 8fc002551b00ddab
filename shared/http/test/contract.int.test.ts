import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, generateDevSecret, mintDevToken } from '@argmax/auth'
import { NotFoundError, UnavailableError } from '@argmax/errors'
import { createLogger } from '@argmax/telemetry'
import {
  ApiError,
  IdempotencyKeyHeaders,
  createApiClient,
  createServiceApp,
  defineRoutes,
  idempotencyKeyOf,
  listen,
  serveRoute,
} from '../src/index.ts'

// A small contract of the kind every service declares (see services/dataset/src/api/contract.ts).
const Note = Type.Object({
  id: Type.String(),
  text: Type.String(),
  tags: Type.Array(Type.String()),
})
const routes = defineRoutes({
  createNote: {
    method: 'POST',
    url: '/v1/notes',
    retry: 'idempotency-key',
    schema: {
      headers: IdempotencyKeyHeaders,
      body: Type.Object({ text: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
      response: { 201: Note },
    },
  },
  getNote: {
    method: 'GET',
    url: '/v1/notes/:noteId',
    schema: {
      params: Type.Object({ noteId: Type.String() }),
      querystring: Type.Object({ tag: Type.Optional(Type.Array(Type.String())) }),
      response: { 200: Note },
    },
  },
  exportNotes: {
    method: 'GET',
    url: '/v1/notes/export',
    largeAnswers: true,
    schema: { response: { 200: Type.Object({ items: Type.Array(Note) }) } },
  },
  touchNote: {
    method: 'POST',
    url: '/v1/notes/:noteId/touch',
    schema: { params: Type.Object({ noteId: Type.String() }), response: { 200: Note } },
  },
})

const secret = generateDevSecret()
let app: FastifyInstance
let baseUrl: string
let token: string
/** What the server saw, per route: the Idempotency-Key of each attempt. */
const seen: Record<string, Array<string | undefined>> = {
  createNote: [],
  getNote: [],
  touchNote: [],
}
/** How the next attempts are answered: a status to fail with, 'hang', or nothing (succeed). */
let script: Array<{ fail: 503; retryAfterSeconds: number } | 'hang'> = []

function scripted(name: string, key: string | undefined): Promise<void> {
  seen[name]!.push(key)
  const next = script.shift()
  if (next === 'hang') return new Promise((resolve) => setTimeout(resolve, 2_000))
  if (next) {
    throw new UnavailableError('the note store is busy', {
      dependency: 'notes',
      retryAfterSeconds: next.retryAfterSeconds,
    })
  }
  return Promise.resolve()
}

beforeAll(async () => {
  app = await createServiceApp({
    service: 'notes',
    logger: createLogger({ service: 'notes', level: 'silent' }),
    verifier: createVerifier({ mode: 'hs256', secret }),
    ready: async () => true,
  })
  serveRoute(app, routes, 'createNote', async (request, reply) => {
    await scripted('createNote', idempotencyKeyOf(request))
    reply.code(201)
    // `internal` is not in the contract: fastify does not send it.
    return { id: 'n1', text: request.body.text, tags: [], internal: 'secret' } as {
      id: string
      text: string
      tags: string[]
    }
  })
  serveRoute(app, routes, 'getNote', async (request) => {
    await scripted('getNote', undefined)
    if (request.params.noteId === 'missing') throw new NotFoundError('note', 'missing')
    return { id: request.params.noteId, text: 'hello', tags: request.query.tag ?? [] }
  })
  serveRoute(app, routes, 'exportNotes', async () => {
    const items = Array.from({ length: 3 }, (_, i) => ({ id: `n${i}`, text: 'x', tags: [] }))
    // Serialised by JSON.stringify: nothing is dropped, so handlers must return the contract.
    return { items, exportedBy: 'alice' } as { items: typeof items }
  })
  serveRoute(app, routes, 'touchNote', async (request) => {
    await scripted('touchNote', undefined)
    return { id: request.params.noteId, text: 'touched', tags: [] }
  })
  baseUrl = await listen(app, { host: '127.0.0.1', port: 0 })
  token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 300 })
})

afterAll(() => app.close())

const client = (options: { timeoutMs?: number; maxRetryDelayMs?: number } = {}) =>
  createApiClient(routes, { baseUrl, token, ...options })

describe('a typed client from a contract', () => {
  it('sends one Idempotency-Key per create and the same on every retry', async () => {
    seen['createNote'] = []
    script = [
      { fail: 503, retryAfterSeconds: 0 },
      { fail: 503, retryAfterSeconds: 0 },
    ]
    const note = await client().createNote({ body: { text: 'remember' } })
    expect(note).toEqual({ id: 'n1', text: 'remember', tags: [] })
    const keys = seen['createNote']!
    expect(keys).toHaveLength(3)
    expect(new Set(keys).size).toBe(1)
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/)

    seen['createNote'] = []
    await client().createNote({ body: { text: 'again' }, idempotencyKey: 'my-key' })
    await client().createNote({ body: { text: 'again' } })
    expect(seen['createNote']![0]).toBe('my-key')
    expect(seen['createNote']![1]).not.toBe('my-key')
  })

  it('fills path parameters and query strings', async () => {
    const note = await client().getNote({
      params: { noteId: 'a b/c' },
      query: { tag: ['x', 'y'] },
    })
    expect(note).toEqual({ id: 'a b/c', text: 'hello', tags: ['x', 'y'] })
  })

  it('turns a problem into an ApiError with its status, problem and Retry-After', async () => {
    const missing = await client()
      .getNote({ params: { noteId: 'missing' } })
      .catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(ApiError)
    expect(missing).toMatchObject({
      status: 404,
      problem: { status: 404, detail: 'note missing not found' },
      message: 'GET /v1/notes/missing → 404 note missing not found',
    })

    // Asked to wait longer than it would: no retry, the wait is the caller's to honour.
    seen['getNote'] = []
    script = [{ fail: 503, retryAfterSeconds: 30 }]
    const busy = await client({ maxRetryDelayMs: 1_000 })
      .getNote({ params: { noteId: 'n1' } })
      .catch((e: unknown) => e)
    expect(busy).toMatchObject({
      status: 503,
      retryAfterSeconds: 30,
      problem: { dependency: 'notes' },
    })
    expect(seen['getNote']).toHaveLength(1)
  })

  it('repeats a timed-out read, and never a POST that is not safe to repeat', async () => {
    seen['getNote'] = []
    script = ['hang']
    const note = await client({ timeoutMs: 300 }).getNote({ params: { noteId: 'n2' } })
    expect(note.id).toBe('n2')
    expect(seen['getNote']).toHaveLength(2)

    seen['touchNote'] = []
    script = [{ fail: 503, retryAfterSeconds: 0 }]
    await expect(client().touchNote({ params: { noteId: 'n3' } })).rejects.toMatchObject({
      status: 503,
    })
    expect(seen['touchNote']).toHaveLength(1)
  })

  it('serialises large answers with JSON.stringify', async () => {
    const exported = await client().exportNotes()
    expect(exported.items).toHaveLength(3)
    expect(exported).toHaveProperty('exportedBy', 'alice')
  })

  it('documents the answers and the problems in the OpenAPI document', async () => {
    const document = (await (await fetch(`${baseUrl}/docs/json`)).json()) as {
      paths: Record<
        string,
        Record<string, { operationId: string; responses: Record<string, unknown> }>
      >
    }
    const create = document.paths['/v1/notes']!['post']!
    expect(create.operationId).toBe('createNote')
    expect(Object.keys(create.responses).sort()).toEqual(['201', '4XX', '5XX'])
    expect(JSON.stringify(create.responses['201'])).toContain('"required":["id","text","tags"]')
    expect(JSON.stringify(create.responses['4XX'])).toContain('application/problem+json')
  })

  it('refuses U+0000 in a path, query or body string before the handler runs, naming each field', async () => {
    seen['createNote'] = []
    seen['getNote'] = []
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const created = await fetch(`${baseUrl}/v1/notes`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: 'a\u0000b' }),
    })
    expect(created.status).toBe(400)
    expect(created.headers.get('content-type')).toContain('application/problem+json')
    expect(await created.json()).toMatchObject({
      issues: [{ field: '/text', message: 'must not contain the character U+0000 (NUL)' }],
    })

    const read = await fetch(`${baseUrl}/v1/notes/n%00?tag=ok&tag=b%00d`, { headers })
    expect(read.status).toBe(400)
    expect((await read.json()) as unknown).toMatchObject({
      issues: [{ field: 'path/noteId' }, { field: 'query/tag/1' }],
    })
    expect(seen['createNote']).toEqual([])
    expect(seen['getNote']).toEqual([])
  })
})
