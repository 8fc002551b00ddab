import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'
import type { Role } from './principal.ts'

/** Issuer and audience of HS256 dev tokens; the HS256 verifier checks both. */
export const DEV_ISSUER = 'argmax-dev'
export const DEV_AUDIENCE = 'argmax'

export interface MintDevTokenOptions {
  secret: string
  subject: string
  roles: Role[]
  /** Lifetime in seconds. */
  ttl: number
  name?: string
  /** Clock, so tests can mint tokens that are already expired. */
  now?: () => Date
}

/** Mints an HS256 token as `argmax login` does in the embedded stack, and as tests do. */
export async function mintDevToken(options: MintDevTokenOptions): Promise<string> {
  const issuedAt = Math.floor((options.now?.() ?? new Date()).getTime() / 1000)
  return new SignJWT({ roles: options.roles, ...(options.name ? { name: options.name } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.subject)
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + options.ttl)
    .sign(new TextEncoder().encode(options.secret))
}

/** 256 random bits, base64url: 43 characters, above the 32-character minimum HS256 needs. */
export function generateDevSecret(): string {
  return randomBytes(32).toString('base64url')
}
