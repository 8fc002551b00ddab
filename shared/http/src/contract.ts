import Type, { type Static, type TSchema } from 'typebox'

/**
 * An API contract: each route declared once with TypeBox schemas, which are at the same time
 * JSON Schema (fastify validates and serialises with them, @fastify/swagger documents them)
 * and TypeScript types (handlers are checked against them, and so is every client built from
 * them with `createApiClient`). This module imports no server code: clients import it.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** A route's schemas, in fastify's words. */
export interface RouteSchema {
  tags?: readonly string[]
  summary?: string
  description?: string
  /** Set by `serveRoute` from the route's name. */
  operationId?: string
  params?: TSchema
  querystring?: TSchema
  body?: TSchema
  headers?: TSchema
  /**
   * The answers by status code — the successful ones. Problems (4xx, 5xx) are the shell's and
   * are documented for every route by @argmax/http.
   */
  response: { [status: number]: TSchema }
}

export interface RouteContract {
  method: HttpMethod
  /** fastify's path syntax: `/v1/datasets/:datasetId`. */
  url: string
  schema: RouteSchema
  /**
   * May a client repeat it? `idempotency-key`: a create that takes an `Idempotency-Key` (the
   * client sends one per call and reuses it on its retries); `safe`: repeating it changes
   * nothing. Unset: GET, PUT and DELETE are repeated, other methods are not.
   */
  retry?: 'idempotency-key' | 'safe'
  /** A body limit other than the service's. */
  bodyLimit?: number
  /**
   * Answers can be megabytes (e.g. the profile of a 2,000-column file): serialise them with
   * JSON.stringify, several times faster than fast-json-stringify on large nested arrays
   * (~30 ms against ~250 ms for that profile). The handler's return type is still checked
   * against the schema, but fields it does not declare are no longer dropped.
   */
  largeAnswers?: boolean
}

export type RouteContracts = Record<string, RouteContract>

/** Declares a service's routes (keys become OpenAPI operation ids and client method names). */
export function defineRoutes<Routes extends RouteContracts>(routes: Routes): Routes {
  return routes
}

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key'

/** The `headers` schema of a create that takes an `Idempotency-Key`. */
export const IdempotencyKeyHeaders = Type.Object({
  [IDEMPOTENCY_KEY_HEADER]: Type.Optional(
    Type.String({
      description:
        'Makes the create safe to retry: the same key and body return the first answer; the same key with another body is refused (422). 1–255 visible ASCII characters, e.g. a UUID.',
    }),
  ),
})

/** A string from a fixed list, as `{ type: 'string', enum }` (TypeBox's own Enum omits the type). */
export function StringEnum<const Values extends readonly string[]>(
  values: Values,
  options: { description?: string } = {},
) {
  return Type.Unsafe<Values[number]>({ type: 'string', enum: [...values], ...options })
}

export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()])
}

/** RFC 9457 problem details, as every refusal is answered (see @argmax/errors' toProblem). */
export const ProblemDetailsSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), {
        description: 'the offending fields: `/name` (body), `query/limit`, `header/…`',
      }),
    ),
    retryAfterSeconds: Type.Optional(Type.Number()),
    dependency: Type.Optional(
      Type.String({ description: 'on 503: what failed (postgres, nats, s3, …)' }),
    ),
  },
  { additionalProperties: true },
)

export type ProblemBody = Static<typeof ProblemDetailsSchema>

type Has<S, K extends string> = S extends { [P in K]: infer T extends TSchema } ? T : never

/** What a client passes to call a route. */
export type RouteInput<R extends RouteContract> = ([Has<R['schema'], 'params'>] extends [never]
  ? unknown
  : { params: Static<Has<R['schema'], 'params'>> }) &
  ([Has<R['schema'], 'body'>] extends [never]
    ? unknown
    : { body: Static<Has<R['schema'], 'body'>> }) &
  ([Has<R['schema'], 'querystring'>] extends [never]
    ? unknown
    : { query?: Static<Has<R['schema'], 'querystring'>> }) &
  (R['retry'] extends 'idempotency-key'
    ? {
        /** Reuse one key for the same logical create; the client makes one when absent. */
        idempotencyKey?: string
      }
    : unknown) &
  CallOptions

export interface CallOptions {
  headers?: Record<string, string>
  signal?: AbortSignal
}

type SuccessStatus = 200 | 201 | 202 | 203 | 204 | 206

/** What a successful call returns: the body of any of the route's declared answers. */
export type RouteOutput<R extends RouteContract> = {
  [S in keyof R['schema']['response']]: S extends SuccessStatus
    ? R['schema']['response'][S] extends TSchema
      ? Static<R['schema']['response'][S]>
      : never
    : never
}[keyof R['schema']['response']]
