import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * The stack's HS256 secret: generated on the first `argmax up`, then reused so tokens minted
 * earlier stay valid across restarts. Owner-only file and directory: it signs admin tokens.
 */
export function ensureDevSecret(
  file: string,
  generate: () => string,
): { secret: string; created: boolean } {
  if (existsSync(file)) return { secret: readDevSecret(file), created: false }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  chmodSync(dirname(file), 0o700)
  const secret = generate()
  // `wx`: if two `up`s race, the second fails here instead of overwriting the first's secret.
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' })
  return { secret, created: true }
}

export function readDevSecret(file: string): string {
  if (!existsSync(file)) {
    throw new Error(`no dev secret at ${file}: start the stack once with 'argmax up'`)
  }
  const secret = readFileSync(file, 'utf8').trim()
  if (secret.length < 32)
    throw new Error(`the dev secret in ${file} is too short; delete it and run 'argmax up'`)
  return secret
}
