import type { FastifyInstance } from 'fastify'
import { PROMETHEUS_CONTENT_TYPE } from '@argmax/telemetry'
import { PROBLEM_CONTENT_TYPE, httpProblem } from './send-problem.ts'
import { toReport, type Readiness, type ReadinessReport } from './readiness.ts'

const operational = { tags: ['operations'], security: [] }

/**
 * /healthz: the process serves requests (liveness: never touches dependencies, so a database
 * outage does not get every pod restarted). /readyz: the dependencies answer (readiness: an
 * instance that cannot serve is taken out of the load balancer). /metrics: Prometheus text.
 */
export function registerOperationalRoutes(
  app: FastifyInstance,
  options: { ready: Readiness; metrics?: () => Promise<string> },
): void {
  app.get('/healthz', { schema: { ...operational, summary: 'Liveness' } }, async () => ({
    status: 'ok',
  }))

  app.get(
    '/readyz',
    { schema: { ...operational, summary: 'Readiness of the dependencies' } },
    async (request, reply) => {
      let report: ReadinessReport
      try {
        report = toReport(await options.ready())
      } catch (error) {
        request.log.error({ err: error }, 'readiness check threw')
        const message = error instanceof Error ? error.message : String(error)
        report = { ok: false, checks: { ready: { ok: false, error: message } } }
      }
      if (report.ok) return { status: 'ready', checks: report.checks }
      const failed = Object.entries(report.checks).filter(([, check]) => !check.ok)
      const detail =
        failed.length === 0
          ? 'not ready'
          : `not ready: ${failed.map(([name, check]) => (check.error ? `${name} (${check.error})` : name)).join(', ')}`
      return reply
        .code(503)
        .type(PROBLEM_CONTENT_TYPE)
        .send({ ...httpProblem(503, detail, request.url), checks: report.checks })
    },
  )

  const metrics = options.metrics
  if (metrics) {
    app.get(
      '/metrics',
      { schema: { ...operational, summary: 'Prometheus metrics' } },
      async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(await metrics()),
    )
  }
}
