import { UnavailableError } from '@argmax/errors'
import { mintDevToken } from './dev-token.ts'

/**
 * The token a service presents when it calls another process of the platform (the inference
 * gateway calling model servers): in `hs256` mode a short-lived token it mints itself with the
 * shared secret for the subject `system:<service>` and the role `admin`; in `oidc` mode an
 * access token from the issuer's token endpoint by the client-credentials grant (the client's
 * service account must carry the `admin` realm role). Tokens are reused until most of their
 * lifetime has passed, so calls do not wait for a new one.
 */
export type ServiceCredentialSettings =
  | { mode: 'hs256'; secret: string }
  | {
      mode: 'oidc'
      issuer: string
      clientId: string
      clientSecret: string
      /** Default: the `token_endpoint` of the issuer's OpenID configuration. */
      tokenUrl?: string
    }

/**
 * A service's credential settings from its auth settings and its client settings (both read
 * by `@argmax/config`). In oidc mode a missing client id or secret is a configuration error
 * at start-up, not a 401 on the first call.
 */
export function serviceCredentialSettings(
  auth: { mode: 'hs256'; secret: string } | { mode: 'oidc'; issuer: string },
  client: {
    clientId?: string | undefined
    clientSecret?: string | undefined
    tokenUrl?: string | undefined
  },
): ServiceCredentialSettings {
  if (auth.mode === 'hs256') return { mode: 'hs256', secret: auth.secret }
  if (!client.clientId || !client.clientSecret) {
    throw new Error(
      'ARGMAX_OIDC_CLIENT_ID and ARGMAX_OIDC_CLIENT_SECRET are required in oidc mode: the service calls other services with its own client credentials',
    )
  }
  return {
    mode: 'oidc',
    issuer: auth.issuer,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    ...(client.tokenUrl ? { tokenUrl: client.tokenUrl } : {}),
  }
}

export interface ServiceCredential {
  /** A valid bearer token (without the `Bearer ` prefix). */
  token(): Promise<string>
}

export interface ServiceCredentialOptions {
  /** Names the subject `system:<service>`. */
  service: string
  /** Lifetime of a minted hs256 token (default one hour). */
  ttlSeconds?: number
  now?: () => Date
  fetch?: typeof fetch
}

/** A token is renewed once this share of its lifetime has passed. */
const RENEW_AT = 0.75

export function createServiceCredential(
  settings: ServiceCredentialSettings,
  options: ServiceCredentialOptions,
): ServiceCredential {
  const now = options.now ?? (() => new Date())
  let current: { token: string; renewAt: number } | undefined
  let pending: Promise<string> | undefined

  const obtain =
    settings.mode === 'hs256'
      ? async () => {
          const ttl = options.ttlSeconds ?? 3600
          const token = await mintDevToken({
            secret: settings.secret,
            subject: `system:${options.service}`,
            roles: ['admin'],
            ttl,
            now,
          })
          return { token, lifetimeMs: ttl * 1000 }
        }
      : clientCredentials(settings, options.fetch ?? fetch)

  return {
    async token() {
      if (current && now().getTime() < current.renewAt) return current.token
      pending ??= obtain()
        .then(({ token, lifetimeMs }) => {
          current = { token, renewAt: now().getTime() + lifetimeMs * RENEW_AT }
          return token
        })
        .finally(() => (pending = undefined))
      return pending
    },
  }
}

function clientCredentials(
  settings: Extract<ServiceCredentialSettings, { mode: 'oidc' }>,
  fetchFn: typeof fetch,
) {
  let tokenUrl = settings.tokenUrl
  const unavailable = (reason: string) =>
    new UnavailableError(`the identity provider is unavailable (${reason}); retry later`, {
      dependency: 'oidc',
    })
  const request = async (url: string, init?: RequestInit) => {
    try {
      return await fetchFn(url, { ...init, signal: AbortSignal.timeout(10_000) })
    } catch {
      throw unavailable('no answer')
    }
  }
  return async () => {
    if (!tokenUrl) {
      const discovery = await request(
        `${settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
      )
      if (!discovery.ok) throw unavailable(`discovery answered ${discovery.status}`)
      const document = (await discovery.json()) as { token_endpoint?: unknown }
      if (typeof document.token_endpoint !== 'string') {
        throw new Error(`the OpenID configuration of ${settings.issuer} has no token_endpoint`)
      }
      tokenUrl = document.token_endpoint
    }
    const basic = Buffer.from(
      `${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`,
    ).toString('base64')
    const response = await request(tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    })
    if (response.status >= 500 || response.status === 429) {
      throw unavailable(`token endpoint answered ${response.status}`)
    }
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown
      expires_in?: unknown
      error?: unknown
    }
    if (!response.ok || typeof body.access_token !== 'string') {
      // A refused client is a configuration error, not an outage: say what the issuer said.
      throw new Error(
        `the token endpoint refused client ${settings.clientId}: ${response.status} ${String(body.error ?? '')}`,
      )
    }
    const seconds = typeof body.expires_in === 'number' ? body.expires_in : 300
    return { token: body.access_token, lifetimeMs: seconds * 1000 }
  }
}
