import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ForbiddenError, NotFoundError } from '@argmax/errors'
import {
  assertCanAccess,
  assertCanWrite,
  authPlugin,
  createVerifier,
  generateDevSecret,
  isPublicPath,
  mintDevToken,
  requestPrincipal,
  requireRole,
  type Role,
} from '../src/index.ts'

const secret = generateDevSecret()
const token = (subject: string, roles: Role[], ttl = 300) =>
  mintDevToken({ secret, subject, roles, ttl })

// A tiny resource API whose notes are owned by the subject that wrote them: ownership is
// decided in the handler, next to the data, not by the plugin.
function notesApp(): FastifyInstance {
  const app = Fastify()
  const notes = new Map([
    ['n1', { owner: 'alice', text: "alice's note" }],
    ['n2', { owner: 'bob', text: "bob's note" }],
  ])
  app.register(authPlugin, {
    verifier: createVerifier({ mode: 'hs256', secret }),
    publicPaths: ['/healthz', '/docs'],
  })
  app.setErrorHandler((error, request, reply) => {
    // The service shell (@argmax/http) does this for real; here just enough for the demo.
    const status = error instanceof ForbiddenError ? 403 : 404
    return reply.code(status).send({ detail: (error as Error).message })
  })
  app.get('/healthz', async (request) => ({ ok: true, principal: request.principal }))
  app.get('/docs/json', async () => ({ openapi: '3.1.0' }))
  app.get<{ Params: { id: string } }>('/notes/:id', async (request) => {
    const note = notes.get(request.params.id)
    if (!note) throw new NotFoundError('note', request.params.id)
    assertCanAccess(requestPrincipal(request), note.owner)
    return note
  })
  app.put<{ Params: { id: string }; Body: { text: string } }>('/notes/:id', async (request) => {
    const principal = requestPrincipal(request)
    assertCanWrite(principal)
    const note = { owner: principal.subject, text: request.body.text }
    notes.set(request.params.id, note)
    return note
  })
  app.get('/admin/stats', async (request) => {
    requireRole(requestPrincipal(request), 'admin')
    return { notes: notes.size }
  })
  return app
}

describe('authPlugin', () => {
  const app = notesApp()
  beforeAll(() => app.ready())
  afterAll(() => app.close())

  it('serves public paths without a token and leaves the principal empty', async () => {
    const health = await app.inject({ url: '/healthz?verbose=1' })
    expect(health.json()).toEqual({ ok: true, principal: null })
    expect((await app.inject({ url: '/docs/json' })).statusCode).toBe(200)
  })

  it('skips a path matched by a RegExp (routes with a credential of their own), only that one', () => {
    const paths = ['/healthz', /^\/v1\/runs\/[^/]+\/heartbeats$/]
    expect(isPublicPath('/v1/runs/r1/heartbeats', paths)).toBe(true)
    expect(isPublicPath('/v1/runs/r1/heartbeats?x=1', paths)).toBe(true)
    expect(isPublicPath('/v1/runs/r1', paths)).toBe(false)
    expect(isPublicPath('/v1/runs/r1/heartbeats/x', paths)).toBe(false)
    expect(isPublicPath('/healthz/deep', paths)).toBe(true)
  })

  it('answers 401 problem+json with a bare challenge when no token is sent', async () => {
    const response = await app.inject({ url: '/notes/n1' })
    expect(response.statusCode).toBe(401)
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(response.headers['www-authenticate']).toBe('Bearer realm="argmax"')
    expect(response.json()).toMatchObject({
      status: 401,
      title: 'Unauthorized',
      detail: 'a bearer token is required',
      instance: '/notes/n1',
    })
  })

  it.each([
    [
      'expired',
      async () =>
        mintDevToken({
          secret,
          subject: 'alice',
          roles: ['user'],
          ttl: 60,
          now: () => new Date(0),
        }),
      'token expired',
    ],
    [
      'badly signed',
      async () =>
        mintDevToken({ secret: generateDevSecret(), subject: 'alice', roles: ['user'], ttl: 60 }),
      'token signature is invalid',
    ],
    ['garbage', async () => 'abc.def.ghi', 'malformed token'],
  ])('answers 401 invalid_token for an %s token', async (_, make, reason) => {
    const response = await app.inject({
      url: '/notes/n1',
      headers: { authorization: `Bearer ${await make()}` },
    })
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toMatch(
      /^Bearer realm="argmax", error="invalid_token", error_description="[^"]+"$/,
    )
    expect(response.json().detail).toContain(reason)
  })

  it('answers 403 insufficient_scope for a token without a known role', async () => {
    const response = await app.inject({
      url: '/notes/n1',
      headers: { authorization: `Bearer ${await token('mallory', [])}` },
    })
    expect(response.statusCode).toBe(403)
    expect(response.headers['www-authenticate']).toContain('error="insufficient_scope"')
  })

  it('lets a user read their own resource but not another user’s; an admin reads both', async () => {
    const alice = { authorization: `Bearer ${await token('alice', ['user'])}` }
    const admin = { authorization: `Bearer ${await token('root', ['admin'])}` }
    expect((await app.inject({ url: '/notes/n1', headers: alice })).json()).toEqual({
      owner: 'alice',
      text: "alice's note",
    })
    const denied = await app.inject({ url: '/notes/n2', headers: alice })
    expect(denied.statusCode).toBe(403)
    expect(denied.json()).toEqual({ detail: 'this resource belongs to another user' })
    expect((await app.inject({ url: '/notes/n2', headers: admin })).statusCode).toBe(200)
  })

  it('refuses a user on an admin route with 403', async () => {
    const alice = { authorization: `Bearer ${await token('alice', ['user'])}` }
    expect((await app.inject({ url: '/admin/stats', headers: alice })).statusCode).toBe(403)
    const admin = { authorization: `Bearer ${await token('root', ['admin'])}` }
    expect((await app.inject({ url: '/admin/stats', headers: admin })).json()).toEqual({ notes: 2 })
  })

  it('refuses an analyst write with 403 and changes nothing', async () => {
    const analyst = { authorization: `Bearer ${await token('ana', ['analyst'])}` }
    const write = await app.inject({
      method: 'PUT',
      url: '/notes/n3',
      headers: analyst,
      payload: { text: 'hello' },
    })
    expect(write.statusCode).toBe(403)
    expect(write.json()).toEqual({ detail: 'the analyst role is read-only' })
    const admin = { authorization: `Bearer ${await token('root', ['admin'])}` }
    expect((await app.inject({ url: '/notes/n3', headers: admin })).statusCode).toBe(404)
  })
})
