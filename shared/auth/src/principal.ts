/**
 * `user` owns resources; `internal` is an ML engineer (higher quotas, high priority);
 * `admin` sees and operates everything; `analyst` reads (SQL, dashboards) and never writes.
 */
export const ROLES = ['user', 'internal', 'admin', 'analyst'] as const
export type Role = (typeof ROLES)[number]

/** Who is calling, as established from a verified bearer token. */
export interface Principal {
  /** The token's `sub`: the owner id stored on resources and the `actor` of events. */
  subject: string
  roles: Role[]
  name?: string
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}
