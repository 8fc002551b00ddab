import { z } from 'zod'
import { envBool, envInt, envString, envUrl } from './env-values.ts'

/**
 * Reusable pieces of configuration. Each one reads its own variables from the flat environment
 * and returns a small typed object, so a service composes only what it uses:
 *
 *   const config = loadConfig(envConfig({ nats: natsSettings, http: httpSettings }))
 *   config.nats.url
 */

export const natsSettings = z
  .object({
    ARGMAX_NATS_URL: envUrl(['nats', 'tls', 'ws', 'wss']),
    ARGMAX_STREAM_REPLICAS: envInt({ min: 1, max: 5 }).default(1),
  })
  .transform((env) => ({ url: env.ARGMAX_NATS_URL, streamReplicas: env.ARGMAX_STREAM_REPLICAS }))
export type NatsSettings = z.output<typeof natsSettings>

export const postgresSettings = z
  .object({ ARGMAX_POSTGRES_URL: envUrl(['postgres', 'postgresql']) })
  .transform((env) => ({ url: env.ARGMAX_POSTGRES_URL }))
export type PostgresSettings = z.output<typeof postgresSettings>

export const clickhouseSettings = z
  .object({
    ARGMAX_CLICKHOUSE_URL: envUrl(['http', 'https']),
    ARGMAX_CLICKHOUSE_USER: envString().default('default'),
    ARGMAX_CLICKHOUSE_PASSWORD: z.string().default(''),
  })
  .transform((env) => ({
    url: env.ARGMAX_CLICKHOUSE_URL,
    user: env.ARGMAX_CLICKHOUSE_USER,
    password: env.ARGMAX_CLICKHOUSE_PASSWORD,
  }))
export type ClickhouseSettings = z.output<typeof clickhouseSettings>

export const s3Settings = z
  .object({
    // Absent means the SDK's default AWS endpoint for the region.
    ARGMAX_S3_ENDPOINT: envUrl(['http', 'https']).optional(),
    ARGMAX_S3_REGION: envString().default('us-east-1'),
    ARGMAX_S3_ACCESS_KEY_ID: envString(),
    ARGMAX_S3_SECRET_ACCESS_KEY: envString(),
    ARGMAX_S3_FORCE_PATH_STYLE: envBool().default(false),
  })
  .transform((env) => ({
    ...(env.ARGMAX_S3_ENDPOINT === undefined ? {} : { endpoint: env.ARGMAX_S3_ENDPOINT }),
    region: env.ARGMAX_S3_REGION,
    accessKeyId: env.ARGMAX_S3_ACCESS_KEY_ID,
    secretAccessKey: env.ARGMAX_S3_SECRET_ACCESS_KEY,
    forcePathStyle: env.ARGMAX_S3_FORCE_PATH_STYLE,
  }))
export type S3Settings = z.output<typeof s3Settings>

const hs256Auth = z.object({
  ARGMAX_AUTH_MODE: z.literal('hs256'),
  ARGMAX_JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
})

const oidcAuth = z.object({
  ARGMAX_AUTH_MODE: z.literal('oidc'),
  ARGMAX_OIDC_ISSUER: envString(),
  ARGMAX_OIDC_JWKS_URL: envUrl(['http', 'https']),
  ARGMAX_OIDC_AUDIENCE: envString(),
})

/**
 * `hs256` (the default) verifies tokens with a shared dev secret; `oidc` with any issuer's JWKS.
 * The output has the shape `createVerifier` from @argmax/auth takes.
 */
export const authSettings = z
  .preprocess(
    (env) =>
      typeof env === 'object' &&
      env !== null &&
      !('ARGMAX_AUTH_MODE' in env && env.ARGMAX_AUTH_MODE)
        ? { ...env, ARGMAX_AUTH_MODE: 'hs256' }
        : env,
    z.discriminatedUnion('ARGMAX_AUTH_MODE', [hs256Auth, oidcAuth], {
      error: 'must be hs256 or oidc',
    }),
  )
  .transform((env) =>
    env.ARGMAX_AUTH_MODE === 'hs256'
      ? { mode: 'hs256' as const, secret: env.ARGMAX_JWT_SECRET }
      : {
          mode: 'oidc' as const,
          issuer: env.ARGMAX_OIDC_ISSUER,
          jwksUrl: env.ARGMAX_OIDC_JWKS_URL,
          audience: env.ARGMAX_OIDC_AUDIENCE,
        },
  )
export type AuthSettings = z.output<typeof authSettings>

/**
 * OIDC mode: the client credentials a service presents when it calls another process of the
 * platform (the gateway calling model servers, training calling the registry and feedback).
 * In hs256 mode the service mints its own token and needs none of these.
 */
export const serviceClientSettings = z
  .object({
    ARGMAX_OIDC_CLIENT_ID: envString().optional(),
    ARGMAX_OIDC_CLIENT_SECRET: envString().optional(),
    /** Default: the `token_endpoint` of the issuer's OpenID configuration. */
    ARGMAX_OIDC_TOKEN_URL: envUrl(['http', 'https']).optional(),
  })
  .transform((env): { clientId?: string; clientSecret?: string; tokenUrl?: string } => ({
    ...(env.ARGMAX_OIDC_CLIENT_ID ? { clientId: env.ARGMAX_OIDC_CLIENT_ID } : {}),
    ...(env.ARGMAX_OIDC_CLIENT_SECRET ? { clientSecret: env.ARGMAX_OIDC_CLIENT_SECRET } : {}),
    ...(env.ARGMAX_OIDC_TOKEN_URL ? { tokenUrl: env.ARGMAX_OIDC_TOKEN_URL } : {}),
  }))
export type ServiceClientSettings = z.output<typeof serviceClientSettings>

export const httpSettings = z
  .object({
    ARGMAX_HTTP_HOST: envString().default('127.0.0.1'),
    ARGMAX_HTTP_PORT: envInt({ min: 0, max: 65_535 }),
  })
  .transform((env) => ({ host: env.ARGMAX_HTTP_HOST, port: env.ARGMAX_HTTP_PORT }))
export type HttpSettings = z.output<typeof httpSettings>
