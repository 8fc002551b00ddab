import type { FastifyInstance, FastifyRequest } from 'fastify'
import { requestPrincipal, requireRole } from '@argmax/auth'
import { ValidationError } from '@argmax/errors'
import type { RepositoryParameter, RepositoryParameters } from '../repository/load-config.ts'

/**
 * The model repository extension in its REST form, as Triton's HTTP endpoint and
 * tritonclient.http's `get_model_repository_index` / `load_model` / `unload_model` speak it:
 *   POST /v2/repository/index                  {"ready": bool}? → [{name, version, state, reason}]
 *   POST /v2/repository/models/{name}/load     {"parameters": {"version": "3", "config": "<JSON>"}}
 *   POST /v2/repository/models/{name}/unload   {"parameters": {"version": "3"}?}
 * Parameters are JSON values where gRPC has typed ones: a string, an integer or a boolean
 * (`config` may also be the JSON object itself). Admins only, as over gRPC.
 */
/** What serves the extension over either protocol: a model server's V2Service, the gateway's. */
export interface RepositoryExtension {
  index(
    readyOnly: boolean,
  ): readonly { name: string; version: string; state: string; reason: string }[]
  load(name: string, parameters: RepositoryParameters): Promise<void>
  unload(name: string, parameters: RepositoryParameters): Promise<void>
}

interface ModelRequest {
  Params: { name: string }
  Body: { parameters?: Record<string, unknown> } | undefined
}

const tags = ['v2 repository']
const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 } },
} as const
const modelBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { parameters: { type: 'object' } },
} as const

export function registerRepositoryRoutes(
  v2: FastifyInstance,
  repository: RepositoryExtension,
): void {
  // Before the body is validated: a caller who may not call learns nothing of the body's rules.
  const preValidation = async (request: FastifyRequest) =>
    requireRole(requestPrincipal(request), 'admin')

  v2.post<{ Body: { ready?: boolean } | undefined }>(
    '/v2/repository/index',
    {
      preValidation,
      schema: {
        tags,
        summary: 'The versions this server holds, and their states',
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { ready: { type: 'boolean' } },
        },
      },
    },
    async (request) => repository.index(request.body?.ready === true),
  )
  for (const action of ['load', 'unload'] as const) {
    v2.post<ModelRequest>(
      `/v2/repository/models/:name/${action}`,
      {
        preValidation,
        schema: { tags, summary: `${action} a model version`, params: nameParams, body: modelBody },
      },
      async (request, reply) => {
        const parameters = repositoryParameters(request.body?.parameters ?? {})
        await repository[action](request.params.name, parameters)
        // Triton answers a load or unload with an empty 200.
        return reply.code(200).send()
      },
    )
  }
}

/** JSON parameters as the typed ones of gRPC's ModelRepositoryParameter. */
function repositoryParameters(json: Record<string, unknown>): RepositoryParameters {
  return Object.fromEntries(
    Object.entries(json).map(([key, value]) => [key, repositoryParameter(key, value)]),
  )
}

function repositoryParameter(key: string, value: unknown): RepositoryParameter {
  if (typeof value === 'string') return { parameter_choice: 'string_param', string_param: value }
  if (typeof value === 'boolean') return { parameter_choice: 'bool_param', bool_param: value }
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    return { parameter_choice: 'int64_param', int64_param: value }
  }
  if (key === 'config' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return { parameter_choice: 'string_param', string_param: JSON.stringify(value) }
  }
  throw ValidationError.field(`parameters/${key}`, 'must be a string, an integer or a boolean')
}
