import { describe, expect, it } from 'vitest'
import { ForbiddenError, UnauthenticatedError } from '@argmax/errors'
import {
  assertCanAccess,
  assertCanWrite,
  canAccess,
  principalFromClaims,
  requireRole,
  type Principal,
} from '../src/index.ts'

const alice: Principal = { subject: 'alice', roles: ['user'] }
const admin: Principal = { subject: 'root', roles: ['admin'] }
const analyst: Principal = { subject: 'ana', roles: ['analyst'] }
const engineer: Principal = { subject: 'eve', roles: ['internal', 'analyst'] }

describe('principalFromClaims', () => {
  it('reads roles from the roles claim and from Keycloak realm_access, ignoring unknown roles', () => {
    expect(
      principalFromClaims({
        sub: 'u1',
        preferred_username: 'bob',
        roles: ['user', 'superhero'],
        realm_access: { roles: ['offline_access', 'internal'] },
      }),
    ).toEqual({ subject: 'u1', roles: ['user', 'internal'], name: 'bob' })
  })

  it('refuses a token that grants no known role with 403', () => {
    expect(() => principalFromClaims({ sub: 'u1', roles: ['offline_access'] })).toThrow(
      ForbiddenError,
    )
    expect(() => principalFromClaims({ sub: 'u1', roles: 'admin' })).toThrow(ForbiddenError)
  })

  it('refuses a token without a subject with 401', () => {
    expect(() => principalFromClaims({ roles: ['user'] })).toThrow(UnauthenticatedError)
  })
})

describe('requireRole', () => {
  it('passes with any of the roles, admins always pass, others get 403', () => {
    expect(() => requireRole(engineer, 'internal', 'user')).not.toThrow()
    expect(() => requireRole(admin, 'internal')).not.toThrow()
    expect(() => requireRole(alice, 'internal')).toThrow(
      new ForbiddenError('this operation requires one of the roles internal', {
        required: ['internal'],
      }),
    )
  })
})

describe('ownership', () => {
  it('a user reads and writes only their own resources; an admin everything', () => {
    expect(canAccess(alice, 'alice')).toBe(true)
    expect(canAccess(alice, 'alice', 'write')).toBe(true)
    expect(canAccess(alice, 'bob')).toBe(false)
    expect(canAccess(admin, 'bob', 'write')).toBe(true)
    expect(() => assertCanAccess(alice, 'bob')).toThrow(
      new ForbiddenError('this resource belongs to another user'),
    )
  })

  it('an analyst reads everything and writes nothing, even their own', () => {
    expect(canAccess(analyst, 'bob')).toBe(true)
    expect(canAccess(analyst, 'ana', 'write')).toBe(false)
    expect(() => assertCanWrite(analyst)).toThrow(
      new ForbiddenError('the analyst role is read-only'),
    )
    expect(() => assertCanAccess(analyst, 'ana', 'write')).toThrow(
      new ForbiddenError('the analyst role is read-only'),
    )
  })

  it('another role next to analyst restores writing', () => {
    expect(() => assertCanWrite(engineer)).not.toThrow()
    expect(canAccess(engineer, 'eve', 'write')).toBe(true)
    expect(canAccess(engineer, 'bob', 'write')).toBe(false)
  })
})
