import { UnavailableError } from '@argmax/errors'
import { ApiException } from '@kubernetes/client-node'

/**
 * The Kubernetes API's refusals, as the runner's callers need them: an unreachable or
 * overloaded API server is `UnavailableError` (the scheduler tries again later, an API request
 * answers 503); anything else (RBAC missing, a manifest the server refuses) is a plain Error
 * carrying the server's own Status message — a misconfiguration to fix, not to retry.
 */

export interface KubeStatus {
  kind?: string
  status?: string
  message?: string
  reason?: string
  code?: number
}

/** The HTTP status of an API answer (`ApiException`), or undefined for a network failure. */
export function apiStatusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined
}

export const isNotFound = (error: unknown) => apiStatusCode(error) === 404
/** 409: AlreadyExists on a create, Conflict (a stale resourceVersion) on an update. */
export const isConflict = (error: unknown) => apiStatusCode(error) === 409

const NETWORK =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|socket hang up/

function statusOf(error: ApiException<unknown>): KubeStatus | undefined {
  let body: unknown = error.body
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body)
    } catch {
      return { message: body as string }
    }
  }
  return typeof body === 'object' && body !== null ? (body as KubeStatus) : undefined
}

/** Translates a failed call `what` (e.g. `create Job argmax-…`) for the runner's callers. */
export function kubeError(error: unknown, what: string): Error {
  if (error instanceof ApiException) {
    const status = statusOf(error)
    const detail = status?.message ?? status?.reason ?? `HTTP ${error.code}`
    if (error.code >= 500 || error.code === 429) {
      const retryAfter = Number(error.headers?.['retry-after'])
      return new UnavailableError(`kubernetes is unavailable (${what}: ${detail}); retry later`, {
        dependency: 'kubernetes',
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      })
    }
    return new Error(`kubernetes refused to ${what}: ${detail} (${status?.reason ?? error.code})`, {
      cause: error,
    })
  }
  const text =
    error instanceof Error
      ? `${(error as { code?: string }).code ?? ''} ${error.message}`
      : String(error)
  if (NETWORK.test(text) || (error as { type?: string })?.type === 'system') {
    return new UnavailableError(`kubernetes is unavailable (${what}: no answer); retry later`, {
      dependency: 'kubernetes',
    })
  }
  return error instanceof Error ? error : new Error(String(error))
}
