import { canAccess, canWrite, type Principal } from '@argmax/auth'
import { ForbiddenError, NotFoundError } from '@argmax/errors'

/**
 * Ownership rules of the dataset context. Someone else's dataset is answered as 404, not 403:
 * its existence is itself not the caller's business. Analysts see everything and change
 * nothing (403, since they may know the dataset exists).
 */
export function assertCanRead(principal: Principal, ownerId: string, what: string, id: string) {
  if (!canAccess(principal, ownerId, 'read')) throw new NotFoundError(what, id)
}

export function assertCanChange(principal: Principal, ownerId: string, what: string, id: string) {
  assertCanRead(principal, ownerId, what, id)
  if (!canWrite(principal)) throw new ForbiddenError('the analyst role is read-only')
  if (!canAccess(principal, ownerId, 'write')) throw new NotFoundError(what, id)
}

/** Owner filter for listings: undefined means every owner. */
export function listingOwner(principal: Principal): string | undefined {
  return principal.roles.includes('admin') || principal.roles.includes('analyst')
    ? undefined
    : principal.subject
}
