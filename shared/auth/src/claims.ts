import type { JWTPayload } from 'jose'
import { ForbiddenError, UnauthenticatedError } from '@argmax/errors'
import { ROLES, type Principal, type Role } from './principal.ts'

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string') : []
}

/**
 * Turns verified claims into a principal. Roles come from a top-level `roles` array (our dev
 * tokens, most IdPs with a mapper) and Keycloak's `realm_access.roles`; roles this platform does
 * not know (Keycloak adds `offline_access`, `uma_authorization`, …) are ignored.
 */
export function principalFromClaims(claims: JWTPayload): Principal {
  const subject = claims.sub
  if (typeof subject !== 'string' || subject === '') {
    throw new UnauthenticatedError('token has no "sub" claim')
  }
  const realmAccess = claims['realm_access']
  const claimed = [
    ...stringArray(claims['roles']),
    ...stringArray(
      typeof realmAccess === 'object' && realmAccess !== null
        ? (realmAccess as Record<string, unknown>)['roles']
        : undefined,
    ),
  ]
  const roles: Role[] = ROLES.filter((role) => claimed.includes(role))
  if (roles.length === 0) {
    throw new ForbiddenError(`token for ${subject} carries none of the roles ${ROLES.join(', ')}`, {
      subject,
    })
  }
  const name = claims['name'] ?? claims['preferred_username']
  return typeof name === 'string' ? { subject, roles, name } : { subject, roles }
}
