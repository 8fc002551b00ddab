/**
 * Hostile requests for every operation of a service's OpenAPI document, as an API fuzzer
 * (schemathesis, say) would send them: no token or a forged one, odd path and query values,
 * broken and mistyped bodies, text PostgreSQL cannot store, an oversized body. Each request
 * says what a sound answer to it is; `judge` names the answers that are not.
 */

interface JsonSchema {
  type?: string | string[]
  const?: unknown
  enum?: unknown[]
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  minItems?: number
  minLength?: number
  minimum?: number
}

interface Operation {
  parameters?: Array<{ in: string; name: string }>
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>
}

export interface HostileRequest {
  what: string
  method: string
  url: string
  headers: Record<string, string>
  body?: string
  /**
   * `refused`: the answer must be a 4xx; a status: exactly that one. Otherwise any answer but
   * a 5xx other than 503 with Retry-After.
   */
  expect?: 'refused' | number
}

export interface Tokens {
  admin: string
  analyst: string
}

const PATH_VALUES = ['a'.repeat(400), '%00', '%C3%BC', '..%2F..%2Fetc', '%25', '-1', '%20']
const QUERY_VALUES = ['', 'NaN', '-5', 'a'.repeat(5_000), '%00', '%ED%A0%80']
const UNSTORABLE = ['a\u0000b', 'a\ud800b']

export function hostileRequests(
  base: string,
  document: OpenApiDocument,
  tokens: Tokens,
  oversized: string,
): HostileRequest[] {
  const requests: HostileRequest[] = []
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [lowerMethod, operation] of Object.entries(operations)) {
      const method = lowerMethod.toUpperCase()
      const params = operation.parameters ?? []
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema
      const takesBody = method !== 'GET' && method !== 'DELETE'
      const urlWith = (value: string) => `${base}${path.replace(/\{[^}]+\}/g, value)}`
      const url = urlWith('x')
      const valid = (bodySchema ? sample(bodySchema) : {}) as Record<string, unknown>
      const headers = (token: string | undefined, type = 'application/json') => ({
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'content-type': type,
        'idempotency-key': `hostile-${requests.length}`,
      })
      const send = (what: string, request: Partial<HostileRequest>) =>
        requests.push({
          what,
          method,
          url,
          headers: headers(tokens.admin),
          ...(takesBody ? { body: JSON.stringify(valid) } : {}),
          ...request,
        })

      send('no token', { headers: headers(undefined) })
      send('a forged token', { headers: headers(`${tokens.admin.slice(0, -4)}AAAA`) })
      if (params.some((p) => p.in === 'path')) {
        for (const value of PATH_VALUES) send(`path ${value.slice(0, 12)}`, { url: urlWith(value) })
      }
      for (const { name } of params.filter((p) => p.in === 'query')) {
        for (const value of QUERY_VALUES) {
          send(`query ${name}=${value.slice(0, 12)}`, { url: `${url}?${name}=${value}` })
        }
      }
      if (!takesBody) continue
      send('as the analyst', { headers: headers(tokens.analyst), expect: 'refused' })
      for (const body of ['{"a":', 'null', '[]', '"text"', `{"a":${'['.repeat(5_000)}}`]) {
        send(`body ${body.slice(0, 12)}`, { body })
      }
      send('a form', { headers: headers(tokens.admin, 'text/plain'), body: 'a=b' })
      send('an oversized body', { body: oversized, expect: 413 })
      for (const [field, schema] of Object.entries(bodySchema?.properties ?? {})) {
        send(`${field} of the wrong type`, {
          body: JSON.stringify({ ...valid, [field]: wrong(schema) }),
        })
        send(`${field} null`, { body: JSON.stringify({ ...valid, [field]: null }) })
        for (const text of UNSTORABLE) {
          const value = typeOf(schema) === 'string' ? text : { [text]: text }
          send(`${field} holding ${JSON.stringify(text)}`, {
            body: JSON.stringify({ ...valid, [field]: value }),
            expect: 'refused',
          })
        }
      }
    }
  }
  return requests
}

/** What is wrong with an answer to `request`, or undefined when it is a sound one. */
export function judge(
  request: HostileRequest,
  answer: { status: number; contentType: string; retryAfter: string | null },
): string | undefined {
  const { status } = answer
  if (typeof request.expect === 'number' && status !== request.expect) {
    return `${status}, not ${request.expect}`
  }
  if (request.expect === 'refused' && (status < 400 || status >= 500)) {
    return `${status}, not a refusal`
  }
  if (status >= 500 && !(status === 503 && answer.retryAfter)) return `${status}`
  if (status >= 400 && !answer.contentType.includes('json')) {
    return `${status} as ${answer.contentType}, not a problem`
  }
  return undefined
}

function typeOf(schema: JsonSchema | undefined): string | undefined {
  return Array.isArray(schema?.type) ? schema.type[0] : schema?.type
}

/** The smallest value the schema takes: its required members only. */
function sample(schema: JsonSchema, depth = 0): unknown {
  if (depth > 6) return 'x'
  if (schema.const !== undefined) return schema.const
  if (schema.enum) return schema.enum[0]
  const choice = schema.anyOf?.[0] ?? schema.oneOf?.[0]
  if (choice) return sample(choice, depth + 1)
  switch (typeOf(schema)) {
    case 'string':
      return 'a'.repeat(Math.max(1, schema.minLength ?? 1))
    case 'integer':
    case 'number':
      return schema.minimum ?? 1
    case 'boolean':
      return true
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () =>
        sample(schema.items ?? {}, depth + 1),
      )
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {})
          .filter(([name]) => schema.required?.includes(name))
          .map(([name, member]) => [name, sample(member, depth + 1)]),
      )
    default:
      return 'x'
  }
}

function wrong(schema: JsonSchema): unknown {
  switch (typeOf(schema)) {
    case 'string':
      return 12_345
    case 'integer':
    case 'number':
      return 'NaN'
    case 'boolean':
      return 'yes'
    case 'array':
      return { a: 1 }
    case 'object':
      return [1, 2]
    default:
      return null
  }
}
