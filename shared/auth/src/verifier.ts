import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose'
import { UnauthenticatedError, UnavailableError } from '@argmax/errors'
import { principalFromClaims } from './claims.ts'
import { DEV_AUDIENCE, DEV_ISSUER } from './dev-token.ts'
import type { Principal } from './principal.ts'

/** The shape `authSettings` from @argmax/config produces. */
export type VerifierSettings =
  | { mode: 'hs256'; secret: string }
  | { mode: 'oidc'; issuer: string; jwksUrl: string; audience: string }

export interface VerifierDependencies {
  now?: () => Date
}

export interface Verifier {
  /** Verifies a compact JWT and returns its principal; throws Unauthenticated/Forbidden. */
  verify(token: string): Promise<Principal>
  /** Same, from an `Authorization` header value (`Bearer <jwt>`); a missing header is 401. */
  authenticate(authorization: string | undefined): Promise<Principal>
}

/** A 401 for a request that carried no credentials at all (RFC 6750 §3.1: no error code). */
export class MissingTokenError extends UnauthenticatedError {}

// Asymmetric only for OIDC: a JWKS never legitimately verifies an HMAC token.
const asymmetric = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']

/** Tolerated clock skew between the issuer and this process. */
const clockToleranceSeconds = 30

/** Verified tokens kept per verifier (callers × their live tokens). */
const VERIFIED_TOKENS_KEPT = 10_000

export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw new MissingTokenError('a bearer token is required')
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  if (!match?.[1])
    throw new UnauthenticatedError('the Authorization header must be "Bearer <token>"')
  return match[1]
}

export function createVerifier(
  settings: VerifierSettings,
  dependencies: VerifierDependencies = {},
): Verifier {
  const check = (): JWTVerifyOptions => ({
    requiredClaims: ['sub', 'exp'],
    clockTolerance: clockToleranceSeconds,
    ...(dependencies.now ? { currentDate: dependencies.now() } : {}),
  })

  let verifyClaims: (token: string) => Promise<JWTPayload>
  if (settings.mode === 'hs256') {
    const key = new TextEncoder().encode(settings.secret)
    verifyClaims = async (token) =>
      (
        await jwtVerify(token, key, {
          ...check(),
          algorithms: ['HS256'],
          issuer: DEV_ISSUER,
          audience: DEV_AUDIENCE,
        })
      ).payload
  } else {
    // Fetched lazily, cached, and refetched when a token names an unknown `kid` (key rotation).
    const keys = createRemoteJWKSet(new URL(settings.jwksUrl))
    verifyClaims = async (token) =>
      (
        await jwtVerify(token, keys, {
          ...check(),
          algorithms: asymmetric,
          issuer: settings.issuer,
          audience: settings.audience,
        })
      ).payload
  }

  // A client sends the same token with every request until it expires: its principal is kept
  // (exact token string → principal, bounded, oldest first out) so that jose's decoding and
  // signature check run once per token, not per request. Its validity window is checked on
  // every use, with the same clock tolerance.
  const verified = new Map<
    string,
    { principal: Principal; notBeforeMs: number; expiresMs: number }
  >()
  const nowMs = () => (dependencies.now ? dependencies.now() : new Date()).getTime()
  const verify = async (token: string): Promise<Principal> => {
    const known = verified.get(token)
    if (known) {
      const now = nowMs()
      if (now >= known.notBeforeMs && now < known.expiresMs) return known.principal
      verified.delete(token)
    }
    let claims: JWTPayload
    try {
      claims = await verifyClaims(token)
    } catch (error) {
      throw translate(error)
    }
    const principal = Object.freeze(principalFromClaims(claims)) as Principal
    const toleranceMs = clockToleranceSeconds * 1000
    if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!)
    verified.set(token, {
      principal,
      notBeforeMs: claims.nbf === undefined ? -Infinity : claims.nbf * 1000 - toleranceMs,
      // `exp` is required (requiredClaims).
      expiresMs: claims.exp! * 1000 + toleranceMs,
    })
    return principal
  }

  return {
    verify,
    authenticate: async (authorization) => verify(bearerToken(authorization)),
  }
}

/** jose's errors become our vocabulary: bad tokens are 401, an unreachable IdP is 503. */
function translate(error: unknown): Error {
  // Network errors (outside jose's hierarchy), timeouts, non-200 or unparsable JWKS responses
  // (the generic JOSEError) all mean the issuer's keys could not be fetched: not the caller's fault.
  if (
    !(error instanceof errors.JOSEError) ||
    error.code === errors.JOSEError.code ||
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid
  ) {
    return new UnavailableError('the identity provider keys are unavailable')
  }
  if (error instanceof errors.JWTExpired) return new UnauthenticatedError('token expired')
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new UnauthenticatedError(`token rejected: ${error.message}`)
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new UnauthenticatedError('token signature is invalid')
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new UnauthenticatedError('token is signed by a key the identity provider does not list')
  }
  return new UnauthenticatedError(`malformed token: ${error.message}`)
}
