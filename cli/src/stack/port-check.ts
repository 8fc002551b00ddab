import { createServer } from 'node:net'
import { PartStartError } from '@argmax/stack'
import type { LocalPorts } from './ports.ts'

/** Which part listens on which port, named as `argmax status` names the parts. */
export function portOwners(ports: LocalPorts): Array<[string, number]> {
  return [
    ['edge', ports.edge],
    ['nats', ports.nats],
    ['nats (monitoring)', ports.natsMonitor],
    ['postgres', ports.postgres],
    ['clickhouse (http)', ports.clickhouseHttp],
    ['clickhouse (native)', ports.clickhouseTcp],
    ['s3', ports.s3],
    ...Object.entries(ports.services),
  ]
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * Fails before anything starts when a port is taken, naming every busy one, instead of
 * discovering it part by part after the others have spent their start-up time.
 */
export async function assertPortsFree(ports: LocalPorts): Promise<void> {
  const owners = portOwners(ports)
  const free = await Promise.all(owners.map(([, port]) => canBind(port)))
  const busy = owners.filter((_, i) => !free[i])
  if (busy.length === 0) return
  throw new PartStartError(
    busy.map(([name]) => name).join(', '),
    `port${busy.length > 1 ? 's' : ''} ${busy.map(([, port]) => port).join(', ')} already in use on 127.0.0.1`,
    `stop what listens there (e.g. 'ss -ltnp | grep ${busy[0]![1]}'), or move the whole stack with --port-base`,
  )
}
