import type { FastifyInstance } from 'fastify'
import { ValidationError } from '@argmax/errors'
import { idempotencyKeyOf, requestPrincipal, serveRoute } from '@argmax/http'
import { acceptLabels } from '../application/accept-labels.ts'
import type { FeedbackDeps } from '../application/dependencies.ts'
import { feedbackRoutes } from './contract.ts'

export function registerLabelRoutes(app: FastifyInstance, deps: FeedbackDeps): void {
  serveRoute(app, feedbackRoutes, 'sendLabels', async (request, reply) => {
    const body = request.body
    const batch = body.labels !== undefined
    if (batch && (body.predictionId !== undefined || body.value !== undefined)) {
      throw ValidationError.field(
        'labels',
        'send either labels or one predictionId and value, not both',
      )
    }
    if (!batch) {
      const missing = (['predictionId', 'value'] as const).filter(
        (name) => body[name] === undefined,
      )
      if (missing.length > 0) {
        throw new ValidationError(
          `${missing.join(' and ')} required (or a batch in labels)`,
          missing.map((name) => ({ field: `/${name}`, message: 'is required' })),
        )
      }
    }
    const rows = batch ? body.labels! : [{ predictionId: body.predictionId, value: body.value }]
    if (rows.length > deps.maxLabels) {
      throw ValidationError.field(
        '/labels',
        `holds ${rows.length} labels; at most ${deps.maxLabels} per request (split the batch)`,
      )
    }
    const accepted = await acceptLabels(deps, requestPrincipal(request), rows, {
      field: (row, name) => (batch ? `/labels/${row}/${name}` : `/${name}`),
      idempotencyKey: idempotencyKeyOf(request),
      body,
    })
    reply.code(202)
    return {
      requestId: accepted.requestId,
      accepted: accepted.accepted,
      receivedAt: accepted.receivedAt.toISOString(),
      repeated: accepted.repeated,
    }
  })
}
