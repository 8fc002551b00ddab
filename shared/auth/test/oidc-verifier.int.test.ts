import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UnauthenticatedError, UnavailableError } from '@argmax/errors'
import { createVerifier, mintDevToken, type Verifier } from '../src/index.ts'

// A stand-in identity provider: a real HTTP server on loopback publishing a generated key's JWKS,
// the way Keycloak publishes /realms/<realm>/protocol/openid-connect/certs.
const issuer = 'http://127.0.0.1/realms/argmax'
const audience = 'argmax-api'

let server: Server
let jwksUrl: string
let signingKey: CryptoKey
let verifier: Verifier
let jwksRequests = 0

beforeAll(async () => {
  const pair = await generateKeyPair('RS256')
  signingKey = pair.privateKey
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' }
  server = createServer((request, response) => {
    jwksRequests += 1
    if (request.url !== '/certs') return void response.writeHead(404).end()
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ keys: [jwk] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`
  verifier = createVerifier({ mode: 'oidc', issuer, jwksUrl, audience })
})

afterAll(async () => {
  await new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  )
})

function keycloakToken(
  key: CryptoKey,
  overrides: { kid?: string; iss?: string; aud?: string } = {},
): Promise<string> {
  return new SignJWT({
    preferred_username: 'alice',
    realm_access: { roles: ['default-roles-argmax', 'offline_access', 'user', 'internal'] },
  })
    .setProtectedHeader({ alg: 'RS256', kid: overrides.kid ?? 'key-1' })
    .setSubject('5f0c7a4e-alice')
    .setIssuer(overrides.iss ?? issuer)
    .setAudience(overrides.aud ?? audience)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key)
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

describe('OIDC verifier against a JWKS server', () => {
  it('accepts a token signed by the published key, with Keycloak realm roles', async () => {
    await expect(
      verifier.authenticate(`Bearer ${await keycloakToken(signingKey)}`),
    ).resolves.toEqual({
      subject: '5f0c7a4e-alice',
      roles: ['user', 'internal'],
      name: 'alice',
    })
    expect(jwksRequests).toBeGreaterThanOrEqual(1)
  })

  it('rejects a token signed by another key under the same kid', async () => {
    const { privateKey } = await generateKeyPair('RS256')
    expect(await rejection(verifier.verify(await keycloakToken(privateKey)))).toEqual(
      new UnauthenticatedError('token signature is invalid'),
    )
  })

  it('rejects a token signed by a key the JWKS does not list', async () => {
    const { privateKey } = await generateKeyPair('RS256')
    const error = await rejection(
      verifier.verify(await keycloakToken(privateKey, { kid: 'rogue' })),
    )
    expect(error).toEqual(
      new UnauthenticatedError('token is signed by a key the identity provider does not list'),
    )
  })

  it('rejects the wrong issuer and the wrong audience', async () => {
    const wrongIssuer = await rejection(
      verifier.verify(await keycloakToken(signingKey, { iss: 'http://127.0.0.1/realms/other' })),
    )
    expect(wrongIssuer).toBeInstanceOf(UnauthenticatedError)
    expect(wrongIssuer.message).toContain('"iss"')
    const wrongAudience = await rejection(
      verifier.verify(await keycloakToken(signingKey, { aud: 'another-client' })),
    )
    expect(wrongAudience.message).toContain('"aud"')
  })

  it('rejects an HS256 dev token: no algorithm confusion with the JWKS', async () => {
    const dev = await mintDevToken({
      secret: 'x'.repeat(32),
      subject: 'alice',
      roles: ['admin'],
      ttl: 60,
    })
    expect(await rejection(verifier.verify(dev))).toBeInstanceOf(UnauthenticatedError)
  })

  it('answers 503, not 401, when the identity provider keys cannot be fetched', async () => {
    const missing = createVerifier({
      mode: 'oidc',
      issuer,
      jwksUrl: jwksUrl.replace('/certs', '/nope'),
      audience,
    })
    expect(await rejection(missing.verify(await keycloakToken(signingKey)))).toBeInstanceOf(
      UnavailableError,
    )
  })
})
