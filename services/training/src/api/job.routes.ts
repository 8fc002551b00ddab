import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import { sendProblem, httpProblem } from '@argmax/http'
import type { TrainingDeps } from '../application/dependencies.ts'
import {
  LengthRequiredError,
  declaredLength,
  openCheckpoint,
  putArtifact,
  putCheckpoint,
  recordHeartbeat,
} from '../application/job-api.ts'
import type { RunClaims } from '../application/run-tokens.ts'
import { HeartbeatBody, Id, RunParams, type HeartbeatInput } from './contract.ts'

/**
 * The job-facing API the trainers call (the job contract, trainers/README.md), authenticated
 * with a run-scoped token instead of a platform token: the shell's bearer check skips exactly
 * these paths (`JOB_PATHS`), and every route here verifies the run token itself — it is the
 * only credential they accept. Checkpoints and artifacts are streamed to S3 without being
 * parsed or buffered; their size is checked on `Content-Length` before a byte is read.
 */
export const JOB_PATHS: RegExp[] = [
  /^\/v1\/runs\/[^/]+\/heartbeats$/,
  /^\/v1\/runs\/[^/]+\/checkpoint$/,
  /^\/v1\/runs\/[^/]+\/attempts\/[^/]+\/artifacts\/[^/]+$/,
]

declare module 'fastify' {
  interface FastifyRequest {
    runClaims?: RunClaims
  }
}

const ArtifactParams = Type.Object({
  runId: Id,
  attempt: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  name: Type.String({ minLength: 1, maxLength: 128 }),
})

function claimsOf(request: FastifyRequest): RunClaims {
  if (!request.runClaims) throw new Error('job route without run claims')
  return request.runClaims
}

export async function registerJobRoutes(app: FastifyInstance, deps: TrainingDeps): Promise<void> {
  await app.register(async (jobs) => {
    jobs.addHook('onRequest', async (request, reply) => {
      try {
        request.runClaims = await deps.runTokens.verify(request.headers.authorization)
      } catch (error) {
        reply.header(
          'www-authenticate',
          'Bearer realm="argmax-training-job", error="invalid_token"',
        )
        return sendProblem(reply, error)
      }
    })
    jobs.setErrorHandler((error, _request, reply) => {
      if (error instanceof LengthRequiredError) {
        return sendProblem(reply, httpProblem(411, error.message, reply.request.url))
      }
      throw error
    })

    jobs.post<{ Params: { runId: string }; Body: HeartbeatInput }>(
      '/v1/runs/:runId/heartbeats',
      { schema: { params: RunParams, body: HeartbeatBody, hide: true } },
      async (request, reply) => {
        await recordHeartbeat(deps, claimsOf(request), request.params.runId, request.body)
        return reply.code(204).send()
      },
    )

    // Bytes in: the body stays an unread stream until it is piped to S3.
    await jobs.register(async (raw) => {
      raw.removeAllContentTypeParsers()
      raw.addContentTypeParser('*', (_request, _payload, done) => done(null))

      raw.get<{ Params: { runId: string } }>(
        '/v1/runs/:runId/checkpoint',
        { schema: { params: RunParams, hide: true } },
        async (request, reply) => {
          const found = await openCheckpoint(deps, claimsOf(request), request.params.runId)
          if (!found) {
            return sendProblem(
              reply,
              httpProblem(404, `run ${request.params.runId} has no checkpoint yet`, request.url),
            )
          }
          reply.type('application/octet-stream')
          if (found.contentLength !== undefined) reply.header('content-length', found.contentLength)
          return reply.send(found.body)
        },
      )

      raw.put<{ Params: { runId: string } }>(
        '/v1/runs/:runId/checkpoint',
        { schema: { params: RunParams, hide: true } },
        async (request, reply) => {
          const length = refuseEarly(request, reply, deps.settings.maxCheckpointBytes, 'checkpoint')
          await putCheckpoint(deps, claimsOf(request), request.params.runId, request.raw, length)
          return reply.code(204).send()
        },
      )

      raw.put<{ Params: { runId: string; attempt: number; name: string } }>(
        '/v1/runs/:runId/attempts/:attempt/artifacts/:name',
        { schema: { params: ArtifactParams, hide: true } },
        async (request, reply) => {
          const length = refuseEarly(request, reply, deps.settings.maxArtifactBytes, 'artifact')
          const { runId, attempt, name } = request.params
          await putArtifact(
            deps,
            claimsOf(request),
            runId,
            attempt,
            name,
            request.raw,
            length,
            request.headers['content-type'],
          )
          return reply.code(204).send()
        },
      )
    })
  })
}

/**
 * The declared length, checked before the body is read. A refused body is never read: the
 * connection is closed after the answer, so the client does not stream gigabytes into a void.
 */
function refuseEarly(
  request: FastifyRequest,
  reply: FastifyReply,
  limit: number,
  field: string,
): number {
  try {
    return declaredLength(request.headers['content-length'], limit, field)
  } catch (error) {
    reply.header('connection', 'close')
    throw error
  }
}
