import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type {
  ContextConfigDefault,
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify'
import { ValidationError } from '@argmax/errors'
import { parseIdempotencyKey } from '@argmax/events'
import { IDEMPOTENCY_KEY_HEADER, type RouteContract, type RouteContracts } from './contract.ts'
import { unstorableTextIssues } from './text-fields.ts'

/**
 * A handler for one route of a contract: its params, query, body and headers typed from the
 * route's schemas (no casts), its return value checked against the declared answers (and
 * serialised by them: a field not declared is not sent).
 */
export type ContractHandler<R extends RouteContract> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericInterface,
  ContextConfigDefault,
  R['schema'],
  TypeBoxTypeProvider,
  FastifyBaseLogger
>

const stringify = (data: unknown): string => JSON.stringify(data)

/**
 * Serves `routes[name]` with `handler`; the name becomes the OpenAPI operation id. Its path,
 * query and body are refused (400) when a string in them holds text the read models'
 * PostgreSQL cannot store: U+0000 or a lone surrogate (see text-fields.ts).
 */
export function serveRoute<Routes extends RouteContracts, Name extends keyof Routes & string>(
  app: FastifyInstance,
  routes: Routes,
  name: Name,
  handler: ContractHandler<Routes[Name]>,
): void {
  const route: Routes[Name] = routes[name]
  const schema: Routes[Name]['schema'] = { ...route.schema, operationId: name }
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .route<RouteGenericInterface, ContextConfigDefault, Routes[Name]['schema']>({
      method: route.method,
      url: route.url,
      schema,
      ...(route.bodyLimit !== undefined ? { bodyLimit: route.bodyLimit } : {}),
      ...(route.largeAnswers ? { serializerCompiler: () => stringify } : {}),
      preValidation: refuseUnstorableText,
      handler,
    })
}

async function refuseUnstorableText(request: FastifyRequest): Promise<void> {
  const issues = [
    ...unstorableTextIssues(request.params, 'path'),
    ...unstorableTextIssues(request.query, 'query'),
    ...unstorableTextIssues(request.body, ''),
  ]
  if (issues.length > 0) throw ValidationError.of(issues)
}

/**
 * The request's `Idempotency-Key`, or undefined without one; a malformed key is a 400 naming
 * `header/idempotency-key`. See @argmax/events' idempotency.ts for what a create does with it.
 */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  return parseIdempotencyKey(request.headers[IDEMPOTENCY_KEY_HEADER])
}
