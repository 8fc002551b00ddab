import { canAccess, canWrite, type Principal } from '@argmax/auth'
import { ForbiddenError, NotFoundError } from '@argmax/errors'

/**
 * Ownership rules of the registry. Someone else's model is answered as 404, not 403: its
 * existence is itself not the caller's business. Analysts see everything and change nothing
 * (403, since they may know the model exists). Admins see and change everything.
 */
export function assertCanRead(principal: Principal, ownerId: string, model: string) {
  if (!canAccess(principal, ownerId, 'read')) throw new NotFoundError('model', model)
}

export function assertCanChange(principal: Principal, ownerId: string, model: string) {
  assertCanRead(principal, ownerId, model)
  if (!canWrite(principal)) throw new ForbiddenError('the analyst role is read-only')
  if (!canAccess(principal, ownerId, 'write')) throw new NotFoundError('model', model)
}

/** Owner filter for listings: undefined means every owner. */
export function listingOwner(principal: Principal): string | undefined {
  return principal.roles.includes('admin') || principal.roles.includes('analyst')
    ? undefined
    : principal.subject
}
