import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

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
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}
