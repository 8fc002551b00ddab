import { createServer } from 'node:net'
import type { StackPorts } from '@argmax/stack'
import type { ServiceName } from './services.ts'

/** Every TCP port one local stack listens on (all on 127.0.0.1): infrastructure, services, edge. */
export interface LocalPorts extends StackPorts {
  edge: number
  services: Record<ServiceName, number>
  /** The inference gateway's gRPC port (KServe v2): what `argmax predict` and v2 clients use. */
  inferenceGrpc: number
  /** Each local model server's REST (health, metrics) and gRPC port. */
  modelServers: Array<{ http: number; grpc: number }>
}

/**
 * The defaults are the parts' usual ports, except PostgreSQL (5433, so a system PostgreSQL on
 * 5432 can coexist) and the services (71xx, a block nothing common uses).
 */
export const defaultPorts: LocalPorts = {
  edge: 8080,
  nats: 4222,
  natsMonitor: 8222,
  postgres: 5433,
  clickhouseHttp: 8123,
  clickhouseTcp: 9000,
  s3: 4569,
  services: { dataset: 7101, training: 7102, registry: 7103, inference: 7104, feedback: 7105 },
  // Triton's and KServe's usual gRPC port.
  inferenceGrpc: 8001,
  modelServers: [
    { http: 7111, grpc: 7121 },
    { http: 7112, grpc: 7122 },
  ],
}

/**
 * A whole stack on consecutive ports from `base` (edge = base), so a second stack (a test, a
 * colleague on the same machine) can run beside the default one with a single flag.
 */
export function portsFromBase(base: number): LocalPorts {
  if (!Number.isInteger(base) || base < 1024 || base > 65_535 - 20) {
    throw new Error(`--port-base must be an integer between 1024 and ${65_535 - 20}, got ${base}`)
  }
  return {
    edge: base,
    nats: base + 1,
    natsMonitor: base + 2,
    postgres: base + 3,
    clickhouseHttp: base + 4,
    clickhouseTcp: base + 5,
    s3: base + 6,
    services: {
      dataset: base + 10,
      training: base + 11,
      registry: base + 12,
      inference: base + 13,
      feedback: base + 14,
    },
    inferenceGrpc: base + 15,
    modelServers: [
      { http: base + 16, grpc: base + 17 },
      { http: base + 18, grpc: base + 19 },
    ],
  }
}

export function infraPorts({
  nats,
  natsMonitor,
  postgres,
  clickhouseHttp,
  clickhouseTcp,
  s3,
}: LocalPorts): StackPorts {
  return { nats, natsMonitor, postgres, clickhouseHttp, clickhouseTcp, s3 }
}

export function allPorts(ports: LocalPorts): number[] {
  return [
    ports.edge,
    ...Object.values(infraPorts(ports)),
    ...Object.values(ports.services),
    ports.inferenceGrpc,
    ...ports.modelServers.flatMap((server) => [server.http, server.grpc]),
  ]
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * A base whose whole block of ports is free now (a bounded search over a quiet range): for a
 * second stack beside a developer's own, as the e2e tests and benchmarks start one.
 */
export async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768+), where outgoing connections could take a port meanwhile.
    const base = 20_000 + Math.floor(Math.random() * 600) * 20
    const free = await Promise.all(allPorts(portsFromBase(base)).map(portIsFree))
    if (free.every(Boolean)) return base
  }
  throw new Error('no free block of ports found')
}
