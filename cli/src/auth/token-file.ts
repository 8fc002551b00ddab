import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { decodeJwt } from 'jose'

/** Stores the token other commands send; owner-only, it is a bearer credential. */
export function storeToken(file: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${token}\n`, { mode: 0o600 })
  chmodSync(file, 0o600)
}

/**
 * True when the file holds a token that has not expired by `now` (signature not checked: the
 * services do that). `argmax up` keeps such a token instead of replacing the user's login.
 */
export function hasUsableToken(file: string, now: Date): boolean {
  if (!existsSync(file)) return false
  try {
    const { exp } = decodeJwt(readFileSync(file, 'utf8').trim())
    return exp === undefined || exp * 1000 > now.getTime()
  } catch {
    return false
  }
}
