import { STATUS_CODES, maxHeaderSize } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { UnavailableError } from '@argmax/errors'
import { httpProblem, PROBLEM_CONTENT_TYPE, sendProblem } from './send-problem.ts'

// Refusals that come before any route runs — Node's parser's, and a closing app's — answered
// as problem+json like every other, where fastify would write answers of its own.

/**
 * The answer to a request Node's HTTP parser refused before any route saw it — headers (with
 * the URL) over the limit, a malformed request, one that took too long to arrive — as the same
 * problem+json every other refusal is (fastify's default writes a JSON shape of its own). Used
 * as fastify's `clientErrorHandler`; like Node's own, it closes the connection afterwards.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, detail] = clientErrorProblem(error)
  const body = JSON.stringify(httpProblem(status, detail))
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}

function clientErrorProblem(error: NodeJS.ErrnoException): [number, string] {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'the request did not arrive in time']
    case 'HPE_HEADER_OVERFLOW':
      return [431, `the request line and headers exceed ${maxHeaderSize} bytes`]
    default:
      return [400, `not a valid HTTP request (${error.code ?? error.message})`]
  }
}

/**
 * While an app closes (a rolling deploy, `argmax down`), a request that still arrives on a
 * kept-alive connection is answered 503 problem+json with `Retry-After` and `Connection:
 * close` — what every unavailable dependency answers — instead of fastify's own 503 without
 * either (set `return503OnClosing: false` with it). In-flight requests finish as usual.
 */
export function refuseWhileClosing(app: FastifyInstance, service: string): void {
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  // A callback hook, not an async one: every request passes here, and most only need `done`.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done()
    reply.header('connection', 'close')
    sendProblem(
      reply,
      new UnavailableError(`${service} is shutting down; try again in a moment`, {
        dependency: service,
        retryAfterSeconds: 1,
      }),
    )
  })
}
