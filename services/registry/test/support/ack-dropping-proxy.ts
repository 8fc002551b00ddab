import { connect as connectTcp, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy in front of nats-server that forwards everything except a client's JetStream
 * acknowledgements (`PUB $JS.ACK.…`, the replies `msg.ack()` / `working()` / `nak()` send).
 * A process connected through it does its work and appends its events, but JetStream never
 * hears that a message was handled — exactly the state a crash between the append and the
 * acknowledgement leaves. It reads the NATS client protocol's framing (`PUB subject [reply]
 * bytes`, `HPUB subject [reply] headerBytes totalBytes`, payload, CRLF) and nothing more.
 */
export interface AckDroppingProxy {
  url: string
  /** Acknowledgements dropped so far. */
  readonly dropped: number
  close(): Promise<void>
}

export async function startAckDroppingProxy(natsUrl: string): Promise<AckDroppingProxy> {
  const target = new URL(natsUrl)
  const sockets = new Set<Socket>()
  let dropped = 0
  const server: Server = createServer((client) => {
    const upstream = connectTcp(Number(target.port || 4222), target.hostname)
    sockets.add(client).add(upstream)
    upstream.pipe(client)
    let buffer = Buffer.alloc(0)
    client.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        const end = buffer.indexOf('\r\n')
        if (end < 0) return
        const line = buffer.subarray(0, end).toString('latin1')
        const [op, ...args] = line.split(' ')
        const verb = (op ?? '').toUpperCase()
        let length = end + 2
        if (verb === 'PUB' || verb === 'HPUB') {
          const total = Number(args.at(-1))
          length += total + 2
          if (buffer.length < length) return
          if (args[0]?.startsWith('$JS.ACK.')) {
            dropped++
            buffer = buffer.subarray(length)
            continue
          }
        }
        upstream.write(buffer.subarray(0, length))
        buffer = buffer.subarray(length)
      }
    })
    const close = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', close).on('error', close)
    upstream.on('close', close).on('error', close)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as { port: number }
  return {
    url: `nats://127.0.0.1:${address.port}`,
    get dropped() {
      return dropped
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
