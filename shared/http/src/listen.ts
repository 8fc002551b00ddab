import type { FastifyInstance } from 'fastify'

/**
 * Starts listening (port 0 picks a free port) and returns the base URL, e.g.
 * `http://127.0.0.1:43117`, for logs, tests and the local stack's proxy.
 */
export async function listen(
  app: FastifyInstance,
  settings: { host: string; port: number },
): Promise<string> {
  await app.listen({ host: settings.host, port: settings.port })
  const address = app.server.address()
  if (address === null || typeof address === 'string') return String(address)
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}
