/** The roles `argmax login` can mint (the platform's roles: see @argmax/auth). */
export const loginRoles = ['admin', 'user', 'internal', 'analyst'] as const
export type LoginRole = (typeof loginRoles)[number]

export function parseLoginRole(value: string): LoginRole {
  const role = loginRoles.find((r) => r === value)
  if (!role) throw new Error(`--role must be one of ${loginRoles.join(', ')}, got '${value}'`)
  return role
}

const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 }

/** `90s`, `30m`, `12h`, `7d` → seconds; refuses anything else so a typo never mints a forever token. */
export function parseTtl(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value.trim())
  if (!match) throw new Error(`--ttl must look like 30m, 12h or 7d, got '${value}'`)
  const seconds = Number(match[1]) * unitSeconds[match[2]!]!
  if (seconds <= 0 || seconds > 30 * 86_400)
    throw new Error(`--ttl must be between 1s and 30d, got '${value}'`)
  return seconds
}
