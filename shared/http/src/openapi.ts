import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { ProblemDetailsSchema } from './contract.ts'

const problem = {
  description: 'Refused or failed: RFC 9457 problem details',
  content: { 'application/problem+json': { schema: ProblemDetailsSchema } },
}

/**
 * OpenAPI 3.1 generated from the route schemas, served at /docs (UI) and /docs/json. Must be
 * registered before the service's routes: @fastify/swagger collects them as they are added.
 */
export async function registerOpenApi(
  app: FastifyInstance,
  info: { service: string; version: string; description?: string },
): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `Argmax ${info.service} API`,
        version: info.version,
        ...(info.description ? { description: info.description } : {}),
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearerAuth: [] }],
    },
    // Routes that declare their answers (contract routes) also show how they refuse: problem
    // details, documented here only so that fastify does not serialise problems through them.
    transform: ({ schema, url }) => {
      const response = (schema as { response?: Record<string, unknown> } | undefined)?.response
      if (!schema || !response) return { schema, url }
      return {
        schema: { ...schema, response: { ...response, '4XX': problem, '5XX': problem } },
        url,
      }
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}
