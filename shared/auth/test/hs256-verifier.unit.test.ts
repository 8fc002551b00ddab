import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { ForbiddenError, UnauthenticatedError } from '@argmax/errors'
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  MissingTokenError,
  createVerifier,
  generateDevSecret,
  mintDevToken,
} from '../src/index.ts'

const secret = generateDevSecret()
const verifier = createVerifier({ mode: 'hs256', secret })

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

describe('HS256 verifier', () => {
  it('generates secrets long enough for HS256', () => {
    expect(secret).toMatch(/^[\w-]{43}$/)
    expect(generateDevSecret()).not.toBe(secret)
  })

  it('accepts a minted dev token and returns its principal', async () => {
    const token = await mintDevToken({
      secret,
      subject: 'alice',
      roles: ['user'],
      ttl: 60,
      name: 'Alice',
    })
    await expect(verifier.authenticate(`Bearer ${token}`)).resolves.toEqual({
      subject: 'alice',
      roles: ['user'],
      name: 'Alice',
    })
  })

  it('refuses a missing or malformed Authorization header', async () => {
    expect(await rejection(verifier.authenticate(undefined))).toBeInstanceOf(MissingTokenError)
    const basic = await rejection(verifier.authenticate('Basic dXNlcjpwYXNz'))
    expect(basic).toBeInstanceOf(UnauthenticatedError)
    expect(basic).not.toBeInstanceOf(MissingTokenError)
    expect((await rejection(verifier.verify('not.a.jwt'))).message).toMatch(/^malformed token/)
  })

  it('refuses an expired token', async () => {
    const twoHoursAgo = () => new Date(Date.now() - 2 * 3600_000)
    const token = await mintDevToken({
      secret,
      subject: 'alice',
      roles: ['user'],
      ttl: 60,
      now: twoHoursAgo,
    })
    expect(await rejection(verifier.verify(token))).toEqual(
      new UnauthenticatedError('token expired'),
    )
  })

  it('follows the injected clock', async () => {
    const token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 60 })
    const later = createVerifier(
      { mode: 'hs256', secret },
      { now: () => new Date(Date.now() + 3600_000) },
    )
    expect(await rejection(later.verify(token))).toEqual(new UnauthenticatedError('token expired'))
  })

  it('refuses a token signed with another secret', async () => {
    const token = await mintDevToken({
      secret: generateDevSecret(),
      subject: 'alice',
      roles: ['user'],
      ttl: 60,
    })
    expect(await rejection(verifier.verify(token))).toEqual(
      new UnauthenticatedError('token signature is invalid'),
    )
  })

  it('refuses a token from another issuer or for another audience', async () => {
    const key = new TextEncoder().encode(secret)
    const sign = (issuer: string, audience: string) =>
      new SignJWT({ roles: ['user'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setIssuer(issuer)
        .setAudience(audience)
        .setExpirationTime('5m')
        .sign(key)
    const wrongIssuer = await rejection(verifier.verify(await sign('someone-else', DEV_AUDIENCE)))
    expect(wrongIssuer).toBeInstanceOf(UnauthenticatedError)
    expect(wrongIssuer.message).toContain('"iss"')
    const wrongAudience = await rejection(verifier.verify(await sign(DEV_ISSUER, 'other-app')))
    expect(wrongAudience.message).toContain('"aud"')
  })

  it('refuses a token without an expiry', async () => {
    const token = await new SignJWT({ roles: ['user'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .sign(new TextEncoder().encode(secret))
    expect((await rejection(verifier.verify(token))).message).toContain('"exp"')
  })

  it('answers 403 for a valid token without a known role', async () => {
    const token = await mintDevToken({ secret, subject: 'mallory', roles: [], ttl: 60 })
    expect(await rejection(verifier.verify(token))).toBeInstanceOf(ForbiddenError)
  })
})

describe('HS256 verifier, a token verified before', () => {
  it('answers from what it verified until the token expires, then refuses it', async () => {
    let now = Date.now()
    const clocked = createVerifier({ mode: 'hs256', secret }, { now: () => new Date(now) })
    const token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 60 })
    const first = await clocked.verify(token)
    expect(await clocked.verify(token)).toBe(first)
    // Past its expiry and the 30 s tolerance: the kept principal is not used any more.
    now += 91_000
    expect((await rejection(clocked.verify(token))).message).toBe('token expired')
  })

  it('keeps nothing for a token it refused', async () => {
    const token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 60 })
    const [header, payload] = token.split('.')
    const forged = `${header}.${payload}.${'A'.repeat(43)}`
    for (let i = 0; i < 2; i++) {
      expect((await rejection(verifier.verify(forged))).message).toBe('token signature is invalid')
    }
  })
})
