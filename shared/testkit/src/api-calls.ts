/**
 * Calling a service's REST API from a test, the one way every harness does it: a bearer token
 * (or none, for the denials), an optional JSON body and headers; the answer's body parsed as
 * JSON when its content type says JSON (malformed JSON fails the call), the text as it came
 * otherwise (e.g. /metrics), undefined when empty. Through Fastify's `inject` for a service started in the test's process, or over HTTP
 * for one running as a process of its own.
 */
export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface ApiAnswer<T> {
  status: number
  body: T
  headers: Record<string, unknown>
}

export type ApiCall = <T = Record<string, unknown>>(
  method: ApiMethod,
  url: string,
  token: string | null,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<ApiAnswer<T>>

/** What `injectedApi` needs of a Fastify app (so the test kit does not depend on Fastify). */
export interface Injectable {
  inject(request: {
    method: ApiMethod
    url: string
    headers: Record<string, string>
    payload?: object
  }): Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>
}

/** Calls `app` through its `inject`: no socket, the whole request path otherwise. */
export function injectedApi(app: Injectable): ApiCall {
  return async (method, url, token, body, headers = {}) => {
    const response = await app.inject({
      method,
      url,
      headers: { ...authorization(token), ...headers },
      ...(body !== undefined ? { payload: body as object } : {}),
    })
    return {
      status: response.statusCode,
      body: parsed(response.body, response.headers['content-type']) as never,
      headers: response.headers,
    }
  }
}

/** Calls the service listening at `baseUrl` (`http://127.0.0.1:<port>`) over HTTP. */
export function httpApi(baseUrl: string): ApiCall {
  return async (method, url, token, body, headers = {}) => {
    const response = await fetch(`${baseUrl}${url}`, {
      method,
      headers: {
        ...authorization(token),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    return {
      status: response.status,
      body: parsed(await response.text(), response.headers.get('content-type')) as never,
      headers: Object.fromEntries(response.headers),
    }
  }
}

function authorization(token: string | null): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {}
}

function parsed(text: string, contentType: unknown): unknown {
  if (!text) return undefined
  return typeof contentType === 'string' && /[/+]json\b/.test(contentType) ? JSON.parse(text) : text
}
