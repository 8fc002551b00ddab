import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { createApiContext } from '../src/api-context.ts'
import { hasUsableToken, storeToken } from '../src/auth/token-file.ts'
import { ensureDevSecret, readDevSecret } from '../src/stack/dev-secret.ts'
import { resolveDataDir, stackPaths } from '../src/stack/paths.ts'
import { readState, writeState } from '../src/stack/state.ts'
import { readyStackState } from './support/stack-state.ts'

// Each test's own directory, all removed at the end (runs used to leave them in /tmp).
const made: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'argmax-cli-'))
  made.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})
const secret = 'x'.repeat(43)

describe('dev secret', () => {
  it('is created once, owner-only, then reused', () => {
    const file = join(tempDir(), 'secrets', 'jwt-secret')
    let calls = 0
    const first = ensureDevSecret(file, () => `${secret}${++calls}`)
    const second = ensureDevSecret(file, () => `${secret}${++calls}`)
    expect(first).toEqual({ secret: `${secret}1`, created: true })
    expect(second).toEqual({ secret: `${secret}1`, created: false })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700)
  })

  it('explains how to get one when it is missing', () => {
    expect(() => readDevSecret(join(tempDir(), 'nope'))).toThrow(/argmax up/)
  })
})

describe('token file', () => {
  const mint = (expSeconds: number) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(expSeconds)
      .sign(new TextEncoder().encode(secret))

  it('stores owner-only and tells a live token from an expired one', async () => {
    const file = join(tempDir(), 'token')
    const now = new Date('2026-01-01T00:00:00Z')
    expect(hasUsableToken(file, now)).toBe(false)
    storeToken(file, await mint(now.getTime() / 1000 + 60))
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(hasUsableToken(file, now)).toBe(true)
    storeToken(file, await mint(now.getTime() / 1000 - 60))
    expect(hasUsableToken(file, now)).toBe(false)
    writeFileSync(file, 'not a jwt')
    expect(hasUsableToken(file, now)).toBe(false)
  })
})

describe('state file', () => {
  it('round-trips and reads a torn file as no stack', () => {
    const file = join(tempDir(), 'run', 'state.json')
    expect(readState(file)).toBeUndefined()
    const state = readyStackState('/d')
    writeState(file, state)
    expect(readState(file)).toEqual(state)
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 20))
    expect(readState(file)).toBeUndefined()
  })
})

describe('paths and API context', () => {
  it('prefers --data-dir, then ARGMAX_DATA_DIR, then <repo>/.argmax', () => {
    expect(resolveDataDir('/a', { ARGMAX_DATA_DIR: '/b' })).toBe('/a')
    expect(resolveDataDir(undefined, { ARGMAX_DATA_DIR: '/b' })).toBe('/b')
    expect(resolveDataDir(undefined, {})).toMatch(/\/\.argmax$/)
  })

  it('reads the edge from state.json and the token from the token file, env first', () => {
    const dataDir = tempDir()
    const paths = stackPaths(dataDir)
    const ctx = createApiContext({ ARGMAX_DATA_DIR: dataDir })
    expect(ctx.apiUrl).toBe('http://127.0.0.1:8080')
    expect(ctx.token).toBeUndefined()
    expect(ctx.json).toBe(false)

    writeState(paths.stateFile, readyStackState(dataDir))
    storeToken(paths.tokenFile, 'stored-token')
    expect(ctx.apiUrl).toBe('http://127.0.0.1:30000')
    expect(ctx.token).toBe('stored-token')

    const fromEnv = createApiContext({
      ARGMAX_DATA_DIR: dataDir,
      ARGMAX_API_URL: 'https://argmax.example.com/',
      ARGMAX_TOKEN: 'env-token',
      ARGMAX_JSON: '1',
    })
    expect(fromEnv.apiUrl).toBe('https://argmax.example.com')
    expect(fromEnv.token).toBe('env-token')
    expect(fromEnv.json).toBe(true)
  })
})
