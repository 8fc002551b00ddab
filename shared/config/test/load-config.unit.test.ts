import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  ConfigError,
  authSettings,
  clickhouseSettings,
  envConfig,
  envInt,
  exitOnConfigError,
  httpSettings,
  loadConfig,
  natsSettings,
  postgresSettings,
  s3Settings,
} from '../src/index.ts'

const secret = 'x'.repeat(32)

function configError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  const service = envConfig({
    nats: natsSettings,
    postgres: postgresSettings,
    http: httpSettings,
    auth: authSettings,
  })

  it('parses a complete environment into typed sections with defaults', () => {
    const config = loadConfig(service, {
      ARGMAX_NATS_URL: 'nats://127.0.0.1:4222',
      ARGMAX_POSTGRES_URL: 'postgres://argmax:argmax@127.0.0.1:5432/argmax',
      ARGMAX_HTTP_PORT: '8080',
      ARGMAX_JWT_SECRET: secret,
      UNRELATED: 'ignored',
    })
    expect(config).toEqual({
      nats: { url: 'nats://127.0.0.1:4222', streamReplicas: 1 },
      postgres: { url: 'postgres://argmax:argmax@127.0.0.1:5432/argmax' },
      http: { host: '127.0.0.1', port: 8080 },
      auth: { mode: 'hs256', secret },
    })
  })

  it('names a missing and a malformed variable in one error', () => {
    const error = configError(() =>
      loadConfig(service, {
        ARGMAX_NATS_URL: 'nats://127.0.0.1:4222',
        ARGMAX_HTTP_PORT: 'eighty',
        ARGMAX_JWT_SECRET: secret,
      }),
    )
    expect(error.issues).toEqual([
      { variable: 'ARGMAX_POSTGRES_URL', message: 'is required but not set' },
      { variable: 'ARGMAX_HTTP_PORT', message: 'must be a whole number (got "eighty")' },
    ])
    expect(error.message).toContain('ARGMAX_POSTGRES_URL: is required but not set')
    expect(error.message).toContain('ARGMAX_HTTP_PORT: must be a whole number (got "eighty")')
  })

  it('treats empty strings as unset and reports every section at once', () => {
    const error = configError(() =>
      loadConfig(service, {
        ARGMAX_NATS_URL: 'http://wrong-scheme',
        ARGMAX_POSTGRES_URL: '',
        ARGMAX_HTTP_PORT: '70000',
        ARGMAX_JWT_SECRET: 'short',
      }),
    )
    expect(error.issues.map((issue) => issue.variable)).toEqual([
      'ARGMAX_NATS_URL',
      'ARGMAX_POSTGRES_URL',
      'ARGMAX_HTTP_PORT',
      'ARGMAX_JWT_SECRET',
    ])
    expect(error.message).toContain('must be a URL starting with nats://')
    expect(error.message).toContain('must be at most 65535')
  })

  it('never echoes the value of a secret variable', () => {
    const error = configError(() =>
      loadConfig(authSettings, { ARGMAX_JWT_SECRET: 'hunter2-is-my-secret' }),
    )
    expect(error.issues).toEqual([
      { variable: 'ARGMAX_JWT_SECRET', message: 'must be at least 32 characters' },
    ])
    expect(error.message).not.toContain('hunter2')
  })

  it('accepts a service-specific schema composed with the shared pieces', () => {
    const schema = envConfig({
      http: httpSettings,
      training: z.object({ ARGMAX_MAX_RUNS: envInt({ min: 1, max: 10 }).default(3) }),
    })
    expect(loadConfig(schema, { ARGMAX_HTTP_PORT: '0' })).toEqual({
      http: { host: '127.0.0.1', port: 0 },
      training: { ARGMAX_MAX_RUNS: 3 },
    })
  })
})

describe('settings pieces', () => {
  it('oidc mode requires issuer, JWKS URL and audience', () => {
    const error = configError(() =>
      loadConfig(authSettings, { ARGMAX_AUTH_MODE: 'oidc', ARGMAX_OIDC_JWKS_URL: 'not a url' }),
    )
    expect(error.issues).toEqual([
      { variable: 'ARGMAX_OIDC_ISSUER', message: 'is required but not set' },
      {
        variable: 'ARGMAX_OIDC_JWKS_URL',
        message: 'must be a URL starting with http:// or https:// (got "not a url")',
      },
      { variable: 'ARGMAX_OIDC_AUDIENCE', message: 'is required but not set' },
    ])
  })

  it('oidc mode yields the verifier settings', () => {
    expect(
      loadConfig(authSettings, {
        ARGMAX_AUTH_MODE: 'oidc',
        ARGMAX_OIDC_ISSUER: 'https://idp.example/realms/argmax',
        ARGMAX_OIDC_JWKS_URL: 'https://idp.example/realms/argmax/protocol/openid-connect/certs',
        ARGMAX_OIDC_AUDIENCE: 'argmax',
      }),
    ).toEqual({
      mode: 'oidc',
      issuer: 'https://idp.example/realms/argmax',
      jwksUrl: 'https://idp.example/realms/argmax/protocol/openid-connect/certs',
      audience: 'argmax',
    })
  })

  it('rejects an unknown auth mode by name', () => {
    const error = configError(() => loadConfig(authSettings, { ARGMAX_AUTH_MODE: 'basic' }))
    expect(error.issues).toEqual([
      { variable: 'ARGMAX_AUTH_MODE', message: 'must be hs256 or oidc (got "basic")' },
    ])
  })

  it('parses S3 and ClickHouse settings with their defaults', () => {
    const env = {
      ARGMAX_S3_ENDPOINT: 'http://127.0.0.1:9000',
      ARGMAX_S3_ACCESS_KEY_ID: 'S3RVER',
      ARGMAX_S3_SECRET_ACCESS_KEY: 'S3RVER',
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
      ARGMAX_CLICKHOUSE_URL: 'http://127.0.0.1:8123',
    }
    expect(loadConfig(envConfig({ s3: s3Settings, clickhouse: clickhouseSettings }), env)).toEqual({
      s3: {
        endpoint: 'http://127.0.0.1:9000',
        region: 'us-east-1',
        accessKeyId: 'S3RVER',
        secretAccessKey: 'S3RVER',
        forcePathStyle: true,
      },
      clickhouse: { url: 'http://127.0.0.1:8123', user: 'default', password: '' },
    })
    const error = configError(() =>
      loadConfig(s3Settings, { ...env, ARGMAX_S3_FORCE_PATH_STYLE: 'maybe' }),
    )
    expect(error.issues).toEqual([
      { variable: 'ARGMAX_S3_FORCE_PATH_STYLE', message: 'must be true or false (got "maybe")' },
    ])
  })
})

describe('exitOnConfigError', () => {
  class Exited extends Error {
    constructor(readonly code: number) {
      super(`exit ${code}`)
    }
  }
  const io = (written: string[]) => ({
    write: (text: string) => void written.push(text),
    exit: (code: number): never => {
      throw new Exited(code)
    },
  })

  it('prints the configuration error and exits with status 1', () => {
    const written: string[] = []
    expect(() => exitOnConfigError(() => loadConfig(postgresSettings, {}), io(written))).toThrow(
      new Exited(1),
    )
    expect(written.join('')).toContain('ARGMAX_POSTGRES_URL: is required but not set')
  })

  it('returns the configuration when it is valid and lets other errors through', () => {
    const written: string[] = []
    const env = { ARGMAX_POSTGRES_URL: 'postgres://127.0.0.1/argmax' }
    expect(exitOnConfigError(() => loadConfig(postgresSettings, env), io(written))).toEqual({
      url: 'postgres://127.0.0.1/argmax',
    })
    expect(() =>
      exitOnConfigError(() => {
        throw new TypeError('boom')
      }, io(written)),
    ).toThrow(TypeError)
    expect(written).toEqual([])
  })
})
