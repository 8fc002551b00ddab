import { bearerToken, type Principal, type Verifier } from '@argmax/auth'

export interface CachedVerifierOptions {
  /** Milliseconds since the epoch. */
  now(): number
  /** Distinct tokens remembered (oldest forgotten first). */
  maxEntries?: number
}

/**
 * Remembers verified tokens until they expire, so a caller that sends the same bearer token on
 * every request (the gateway's service credential) pays for one signature check, not one per
 * inference. Only successful verifications are kept, keyed by the whole token string, and each
 * only until its own `exp`; failures are never cached.
 */
export function cachedVerifier(verifier: Verifier, options: CachedVerifierOptions): Verifier {
  const maxEntries = options.maxEntries ?? 1024
  const cache = new Map<string, { principal: Principal; expiresAt: number }>()

  const verify = async (token: string): Promise<Principal> => {
    const hit = cache.get(token)
    if (hit && hit.expiresAt > options.now()) return hit.principal
    if (hit) cache.delete(token)
    const principal = await verifier.verify(token)
    const expiresAt = expiryOf(token)
    if (expiresAt !== undefined && expiresAt > options.now()) {
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!)
      cache.set(token, { principal, expiresAt })
    }
    return principal
  }
  return {
    verify,
    authenticate: async (authorization) => verify(bearerToken(authorization)),
  }
}

/** The `exp` claim of a JWT that has just been verified, in ms. */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString())
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined
  } catch {
    return undefined
  }
}
