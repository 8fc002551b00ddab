import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { registerRepositoryRoutes, type RepositoryExtension } from './v2-repository.routes.ts'
import { acceptV2Bodies } from './v2-rest-body.ts'
import { inferBody, modelParams, type JsonInferBody, type ModelParams } from './v2-rest-codec.ts'

/** What answers a model's v2 REST routes: a model server's, or the gateway's by release. */
export interface V2ModelHandlers {
  tags: string[]
  bodyLimit: number
  metadata(params: ModelParams): unknown
  /** `{name, ready: true}`, or throws why not (an UnavailableError: 503 with Retry-After). */
  ready(params: ModelParams): unknown
  config(params: ModelParams): unknown
  infer(
    request: FastifyRequest<{ Params: ModelParams; Body: JsonInferBody }>,
    reply: FastifyReply,
  ): Promise<unknown>
  repository: RepositoryExtension
}

/**
 * The routes both v2 servers share, under `/v2/models/{name}` and `…/versions/{version}`:
 *   GET  …              model metadata
 *   GET  …/ready        readiness
 *   GET  …/config       Triton's model configuration
 *   POST …/infer        JSON or binary tensors
 * and the repository extension (`POST /v2/repository/…`). POST bodies are read by their own
 * parser (any content type; Triton's binary tensor data), refused past `bodyLimit` unread.
 */
export async function registerV2ModelRoutes(
  v2: FastifyInstance,
  handlers: V2ModelHandlers,
): Promise<void> {
  const { tags, bodyLimit } = handlers
  const prefixes = ['/v2/models/:name', '/v2/models/:name/versions/:version']
  const read = (summary: string, answer: (params: ModelParams) => unknown, suffix = '') => {
    for (const prefix of prefixes) {
      v2.get<{ Params: ModelParams }>(
        `${prefix}${suffix}`,
        { schema: { tags, summary, params: modelParams } },
        async (request) => answer(request.params),
      )
    }
  }
  read('Model metadata', (params) => handlers.metadata(params))
  read('Model readiness', (params) => handlers.ready(params), '/ready')
  read("Model configuration (Triton's)", (params) => handlers.config(params), '/config')
  await v2.register(async (posts) => {
    acceptV2Bodies(posts, bodyLimit)
    registerRepositoryRoutes(posts, handlers.repository)
    for (const prefix of prefixes) {
      posts.post<{ Params: ModelParams; Body: JsonInferBody }>(
        `${prefix}/infer`,
        {
          bodyLimit,
          schema: { tags, summary: 'Inference', params: modelParams, body: inferBody },
        },
        (request, reply) => handlers.infer(request, reply),
      )
    }
  })
}
