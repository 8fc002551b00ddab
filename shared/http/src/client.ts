import {
  IDEMPOTENCY_KEY_HEADER,
  type ProblemBody,
  type RouteContract,
  type RouteContracts,
  type RouteInput,
  type RouteOutput,
} from './contract.ts'

/**
 * A typed client for any service's contract: one method per route, named like the route,
 * taking `{ params, query, body }` and returning the declared answer. Bearer token, JSON,
 * query strings, problem+json → ApiError, `Idempotency-Key` and retries live here once.
 * Runs wherever `fetch` does (Node, browsers); it imports no server code.
 */

export interface ApiClientOptions {
  /** Where the routes' paths start, e.g. `http://127.0.0.1:7070` (the edge, or the service). */
  baseUrl: string
  /** A bearer token, or a function asked before every request (tokens expire). */
  token?: string | (() => string | undefined)
  fetch?: typeof fetch
  /** Further attempts for calls that are safe to repeat (default 2). */
  retries?: number
  /** Each attempt's limit (default 30 s); a timed-out call that may be repeated is. */
  timeoutMs?: number
  /** The longest wait between attempts, whatever `Retry-After` says (default 10 s). */
  maxRetryDelayMs?: number
}

/** A refusal or failure answered by the platform, with its RFC 9457 problem details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemBody | undefined,
    /** The answer's `Retry-After`, in seconds (429, 503). */
    readonly retryAfterSeconds: number | undefined,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T]

export type RouteCall<R extends RouteContract> = [RequiredKeys<RouteInput<R>>] extends [never]
  ? (input?: RouteInput<R>) => Promise<RouteOutput<R>>
  : (input: RouteInput<R>) => Promise<RouteOutput<R>>

export type ApiClient<Routes extends RouteContracts> = {
  [Name in keyof Routes]: RouteCall<Routes[Name]>
}

interface AnyInput {
  params?: Record<string, string | number>
  query?: Record<string, unknown>
  body?: unknown
  idempotencyKey?: string
  headers?: Record<string, string>
  signal?: AbortSignal
}

/** Answers worth another attempt: the platform or a dependency is briefly unavailable. */
const RETRY_STATUSES = new Set([502, 503, 504])

export function createApiClient<Routes extends RouteContracts>(
  routes: Routes,
  options: ApiClientOptions,
): ApiClient<Routes> {
  const client: Record<string, (input?: AnyInput) => Promise<unknown>> = {}
  for (const [name, route] of Object.entries(routes)) {
    client[name] = (input = {}) => call(route, input, options)
  }
  return client as ApiClient<Routes>
}

async function call(route: RouteContract, input: AnyInput, options: ApiClientOptions) {
  const fetchImpl = options.fetch ?? fetch
  const url = urlOf(options.baseUrl, route.url, input)
  const headers: Record<string, string> = { accept: 'application/json', ...input.headers }
  const token = typeof options.token === 'function' ? options.token() : options.token
  if (token) headers['authorization'] = `Bearer ${token}`
  if (input.body !== undefined) headers['content-type'] = 'application/json'
  if (route.retry === 'idempotency-key') {
    // One key per logical create, the same on every attempt: that is what makes retrying safe.
    headers[IDEMPOTENCY_KEY_HEADER] = input.idempotencyKey ?? globalThis.crypto.randomUUID()
  }
  const repeatable = route.retry !== undefined || ['GET', 'PUT', 'DELETE'].includes(route.method)
  const retries = repeatable ? (options.retries ?? 2) : 0
  const body = input.body !== undefined ? JSON.stringify(input.body) : undefined
  const path = new URL(url).pathname

  for (let attempt = 0; ; attempt++) {
    const signals = [AbortSignal.timeout(options.timeoutMs ?? 30_000)]
    if (input.signal) signals.push(input.signal)
    let response: Response
    try {
      response = await fetchImpl(url, {
        method: route.method,
        headers,
        signal: AbortSignal.any(signals),
        ...(body !== undefined ? { body } : {}),
      })
    } catch (error) {
      // Network failure or this attempt's timeout; never the caller's own abort.
      if (input.signal?.aborted || attempt >= retries) throw error
      await sleep(backoffMs(attempt, undefined, options), input.signal)
      continue
    }
    const text = await response.text()
    if (response.ok) return text ? (JSON.parse(text) as unknown) : undefined
    const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'))
    const delay = backoffMs(attempt, retryAfterSeconds, options)
    if (RETRY_STATUSES.has(response.status) && attempt < retries && delay !== undefined) {
      await sleep(delay, input.signal)
      continue
    }
    const problem = parseProblem(text)
    throw new ApiError(
      response.status,
      problem,
      retryAfterSeconds,
      `${route.method} ${path} → ${response.status} ${problem?.detail ?? problem?.title ?? text}`,
    )
  }
}

function urlOf(baseUrl: string, template: string, input: AnyInput): string {
  const path = template.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const value = input.params?.[name]
    if (value === undefined) throw new Error(`${template}: path parameter ${name} is missing`)
    return encodeURIComponent(String(value))
  })
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`)
  for (const [name, value] of Object.entries(input.query ?? {})) {
    if (value === undefined || value === '') continue
    for (const item of Array.isArray(value) ? value : [value]) {
      url.searchParams.append(name, String(item))
    }
  }
  return url.toString()
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000))
}

/** The wait before another attempt, or undefined when the server asks for longer than we wait. */
function backoffMs(
  attempt: number,
  retryAfterSeconds: number | undefined,
  options: ApiClientOptions,
): number | undefined {
  const ceiling = options.maxRetryDelayMs ?? 10_000
  if (retryAfterSeconds !== undefined) {
    const asked = retryAfterSeconds * 1000
    return asked > ceiling ? undefined : asked
  }
  // Full jitter, so clients that failed together do not come back together.
  return Math.random() * Math.min(ceiling, 250 * 2 ** attempt)
}

function sleep(ms: number | undefined, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error)
    const timer = setTimeout(resolve, ms ?? 0)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason as Error)
      },
      { once: true },
    )
  })
}

function parseProblem(text: string): ProblemBody | undefined {
  try {
    const parsed = JSON.parse(text) as unknown
    return typeof parsed === 'object' && parsed !== null ? (parsed as ProblemBody) : undefined
  } catch {
    return undefined
  }
}
