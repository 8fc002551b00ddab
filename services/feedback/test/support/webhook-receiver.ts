import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Delivery {
  headers: IncomingMessage['headers']
  body: string
  status: number
}

/**
 * A real HTTP receiver for webhook deliveries: it records every attempt and answers each with
 * the next status of `answers` (then 200).
 */
export async function startReceiver(answers: number[] = []): Promise<{
  url: string
  attempts: Delivery[]
  accepted(): Delivery[]
  close(): Promise<void>
}> {
  const attempts: Delivery[] = []
  const queue = [...answers]
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const status = queue.shift() ?? 200
      attempts.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status,
      })
      response
        .writeHead(status, { 'content-type': 'text/plain' })
        .end(status === 200 ? 'ok' : 'not now')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    attempts,
    accepted: () => attempts.filter((a) => a.status === 200),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
