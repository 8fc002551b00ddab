import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ArgmaxError, UnavailableError, toProblem } from '@argmax/errors'
import { fromFastifyError, sendProblem } from '@argmax/http'
import type { V2Service } from '../serving/v2-service.ts'
import { registerV2ModelRoutes } from './v2-model.routes.ts'
import { binaryPartOf } from './v2-rest-body.ts'
import { callFromRest, sendInferAnswer } from './v2-rest-codec.ts'

/**
 * The REST form of the v2 protocol (JSON tensors and Triton's binary tensor data extension):
 *   GET  /v2/health/live | /v2/health/ready
 *   GET  /v2                                          server metadata
 *   GET  /v2/models/{name}[/versions/{version}]       model metadata
 *   GET  /v2/models/{name}[/versions/{version}]/ready
 *   GET  /v2/models/{name}[/versions/{version}]/config  Triton's model configuration
 *   POST /v2/models/{name}[/versions/{version}]/infer
 *   POST /v2/repository/index | /v2/repository/models/{name}/load|unload   (admins)
 * Refusals are problem+json that also carry v2's `error` member, so v2 REST clients read the
 * message where they expect it. Not ready and unavailable answers are 503 with Retry-After.
 */

const tags = ['v2']

export async function registerV2Routes(
  app: FastifyInstance,
  options: { service: V2Service; bodyLimit: number },
): Promise<void> {
  const { service } = options
  await app.register(async (v2) => {
    v2.setErrorHandler((error, request, reply) =>
      sendV2Problem(request, reply, fromFastifyError(error, request, options.bodyLimit)),
    )

    v2.get('/v2/health/live', { schema: { tags, summary: 'Server liveness' } }, async () => ({
      live: true,
    }))
    v2.get('/v2/health/ready', { schema: { tags, summary: 'Server readiness' } }, async () => {
      if (!service.ready) throw new UnavailableError('the model server is shutting down')
      return { ready: true }
    })
    v2.get('/v2', { schema: { tags, summary: 'Server metadata' } }, async () =>
      service.serverMetadata(),
    )

    await registerV2ModelRoutes(v2, {
      tags,
      bodyLimit: options.bodyLimit,
      repository: service,
      metadata: ({ name, version = '' }) => service.modelMetadata(name, version),
      ready: ({ name, version = '' }) => {
        if (!service.modelReady(name, version)) {
          throw new UnavailableError(
            version
              ? `version ${version} of model ${name} is loading`
              : `model ${name} has no ready version`,
            { retryAfterSeconds: 1 },
          )
        }
        return { name, ready: true }
      },
      config: ({ name, version = '' }) => service.modelConfig(name, version),
      async infer(request, reply) {
        const call = callFromRest(request.params, request.body, binaryPartOf(request))
        const result = await service.infer(call)
        const head = {
          model_name: result.modelName,
          model_version: result.modelVersion,
          ...(result.id ? { id: result.id } : {}),
        }
        return sendInferAnswer(reply, request.body, head, result.outputs)
      },
    })
  })
}

export function sendV2Problem(request: FastifyRequest, reply: FastifyReply, error: unknown) {
  if (!(error instanceof ArgmaxError) && !isProblem(error)) {
    request.log.error({ err: error }, 'request failed')
    return sendProblem(reply, error)
  }
  const problem = isProblem(error) ? error : toProblem(error, request.url)
  if (error instanceof UnavailableError) {
    const seconds = error.details['retryAfterSeconds']
    reply.header('retry-after', String(typeof seconds === 'number' ? seconds : 1))
  }
  return sendProblem(reply, { ...problem, error: problem.detail })
}

function isProblem(value: unknown): value is ReturnType<typeof toProblem> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Error) &&
    typeof (value as { status?: unknown }).status === 'number'
  )
}
