import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UnavailableError } from '@argmax/errors'
import { createServiceCredential, createVerifier, generateDevSecret } from '../src/index.ts'

// A stand-in token endpoint on loopback, answering the client-credentials grant as Keycloak does.
let server: Server
let base: string
const grants: Array<{ authorization: string | undefined; body: string }> = []
let failNext = 0

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      if (request.url === '/realm/.well-known/openid-configuration') {
        return void response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ token_endpoint: `${base}/realm/token` }))
      }
      if (request.url !== '/realm/token') return void response.writeHead(404).end()
      if (failNext > 0) {
        failNext--
        return void response.writeHead(503).end()
      }
      grants.push({ authorization: request.headers.authorization, body })
      const basic = `Basic ${Buffer.from('gateway:s3cret').toString('base64')}`
      if (request.headers.authorization !== basic) {
        return void response
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'unauthorized_client' }))
      }
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: `token-${grants.length}`, expires_in: 60 }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('createServiceCredential', () => {
  it('hs256: mints an admin token for system:<service> that the platform verifier accepts, reused until renewal', async () => {
    const secret = generateDevSecret()
    let now = new Date('2026-12-01T10:00:00Z')
    const credential = createServiceCredential(
      { mode: 'hs256', secret },
      { service: 'inference', ttlSeconds: 600, now: () => now },
    )
    const first = await credential.token()
    const principal = await createVerifier({ mode: 'hs256', secret }, { now: () => now }).verify(
      first,
    )
    expect(principal).toMatchObject({ subject: 'system:inference', roles: ['admin'] })
    expect(await credential.token()).toBe(first)
    now = new Date(now.getTime() + 500_000) // past three quarters of its 600 s
    expect(await credential.token()).not.toBe(first)
  })

  it('oidc: discovers the token endpoint and uses the client-credentials grant, once per lifetime', async () => {
    let now = new Date('2026-12-01T10:00:00Z')
    const credential = createServiceCredential(
      { mode: 'oidc', issuer: `${base}/realm`, clientId: 'gateway', clientSecret: 's3cret' },
      { service: 'inference', now: () => now },
    )
    const before = grants.length
    const [a, b] = await Promise.all([credential.token(), credential.token()])
    expect(a).toBe(b)
    expect(grants.length - before).toBe(1)
    expect(grants.at(-1)!.body).toBe('grant_type=client_credentials')
    now = new Date(now.getTime() + 50_000)
    expect(await credential.token()).not.toBe(a)
  })

  it('oidc: an issuer that fails is UnavailableError; a refused client names itself', async () => {
    failNext = 1
    const down = createServiceCredential(
      {
        mode: 'oidc',
        issuer: `${base}/realm`,
        clientId: 'gateway',
        clientSecret: 's3cret',
        tokenUrl: `${base}/realm/token`,
      },
      { service: 'inference' },
    )
    await expect(down.token()).rejects.toBeInstanceOf(UnavailableError)
    expect(await down.token()).toMatch(/^token-/)

    const wrong = createServiceCredential(
      {
        mode: 'oidc',
        issuer: `${base}/realm`,
        clientId: 'gateway',
        clientSecret: 'wrong',
        tokenUrl: `${base}/realm/token`,
      },
      { service: 'inference' },
    )
    await expect(wrong.token()).rejects.toThrow(/refused client gateway: 401 unauthorized_client/)
  })
})
