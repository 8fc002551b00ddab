import { ForbiddenError } from '@argmax/errors'
import type { Principal, Role } from './principal.ts'

/**
 * Authorization decisions, made inside services next to the data they protect (the edge only
 * authenticates). Admins pass every check; analysts read everything and write nothing.
 */

export function hasRole(principal: Principal, role: Role): boolean {
  return principal.roles.includes(role)
}

/** Passes when the principal holds any of `roles` (or is an admin). */
export function requireRole(principal: Principal, ...roles: Role[]): void {
  if (hasRole(principal, 'admin') || roles.some((role) => hasRole(principal, role))) return
  throw new ForbiddenError(`this operation requires one of the roles ${roles.join(', ')}`, {
    required: roles,
  })
}

/** A principal whose only role is `analyst` is read-only. */
export function canWrite(principal: Principal): boolean {
  return principal.roles.some((role) => role !== 'analyst')
}

export function assertCanWrite(principal: Principal): void {
  if (!canWrite(principal)) throw new ForbiddenError('the analyst role is read-only')
}

export type Access = 'read' | 'write'

/** Whether `principal` may read (or write) a resource owned by the subject `ownerId`. */
export function canAccess(principal: Principal, ownerId: string, access: Access = 'read'): boolean {
  if (access === 'write' && !canWrite(principal)) return false
  if (hasRole(principal, 'admin') || principal.subject === ownerId) return true
  return access === 'read' && hasRole(principal, 'analyst')
}

export function assertCanAccess(
  principal: Principal,
  ownerId: string,
  access: Access = 'read',
): void {
  if (canAccess(principal, ownerId, access)) return
  if (access === 'write' && !canWrite(principal)) assertCanWrite(principal)
  throw new ForbiddenError('this resource belongs to another user')
}
