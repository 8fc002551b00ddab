import { mkdirSync } from 'node:fs'
import { startClickhouse, clickhouseCredentials, clickhouseDatabase } from './clickhouse.ts'
import type { StackEndpoints } from './endpoints.ts'
import { startNats } from './nats.ts'
import { freePort } from './ports.ts'
import { startPostgres } from './postgres.ts'
import type { RunningPart } from './process.ts'
import { s3Credentials, startS3 } from './s3.ts'

export interface StackPorts {
  nats: number
  natsMonitor: number
  postgres: number
  clickhouseHttp: number
  clickhouseTcp: number
  s3: number
}

export interface StackOptions {
  dataDir: string
  /** Fixed ports (the local stack's defaults); any left out are picked free at random. */
  ports?: Partial<StackPorts>
  /** Throwaway data (tests): PostgreSQL without fsync. */
  ephemeral?: boolean
  log?: (line: string) => void
}

export interface RunningStack {
  endpoints: StackEndpoints
  ports: StackPorts
  parts: RunningPart[]
  stop(): Promise<void>
}

export const infraPartNames = ['nats', 'postgres', 'clickhouse', 's3'] as const
export type InfraPartName = (typeof infraPartNames)[number]

/**
 * Starts one part of the infrastructure on its ports and waits until it is healthy: what
 * `startStack` does for each, and what a supervisor calls again to restart one that died.
 */
export function startInfraPart(
  name: InfraPartName,
  {
    dataDir,
    ports,
    ephemeral = false,
    log,
  }: {
    dataDir: string
    ports: StackPorts
    ephemeral?: boolean
    /** Where a part says what it changed on the machine to start. */
    log?: (line: string) => void
  },
): Promise<RunningPart> {
  switch (name) {
    case 'nats':
      return startNats({ dataDir, port: ports.nats, monitorPort: ports.natsMonitor })
    case 'postgres':
      return startPostgres({ dataDir, port: ports.postgres, ephemeral, ...(log ? { log } : {}) })
    case 'clickhouse':
      return startClickhouse({
        dataDir,
        httpPort: ports.clickhouseHttp,
        tcpPort: ports.clickhouseTcp,
      })
    case 's3':
      return startS3({ dataDir, port: ports.s3 })
    default: {
      const never: never = name
      throw new TypeError(`unknown part ${String(never)}`)
    }
  }
}

/**
 * Starts NATS JetStream, PostgreSQL, ClickHouse and S3 side by side, each checked healthy.
 * If one fails the others are stopped again, so a failed start leaves nothing running.
 */
export async function startStack({
  dataDir,
  ports = {},
  ephemeral = false,
  log = () => undefined,
}: StackOptions): Promise<RunningStack> {
  mkdirSync(dataDir, { recursive: true, mode: 0o755 })
  const resolved: StackPorts = {
    nats: ports.nats ?? (await freePort()),
    natsMonitor: ports.natsMonitor ?? (await freePort()),
    postgres: ports.postgres ?? (await freePort()),
    clickhouseHttp: ports.clickhouseHttp ?? (await freePort()),
    clickhouseTcp: ports.clickhouseTcp ?? (await freePort()),
    s3: ports.s3 ?? (await freePort()),
  }
  const results = await Promise.allSettled(
    infraPartNames.map((name) =>
      startInfraPart(name, { dataDir, ports: resolved, ephemeral, log }),
    ),
  )
  const parts = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []))
  if (failures.length > 0) {
    await Promise.all(parts.map((p) => p.stop()))
    throw new AggregateError(failures, failures.map((f) => f.message).join('\n'))
  }
  for (const part of parts) log(`${part.name} ready at ${part.url} (pid ${part.pid})`)
  const byName = (name: string) => parts.find((p) => p.name === name)!
  const endpoints: StackEndpoints = {
    natsUrl: byName('nats').url,
    postgresUrl: byName('postgres').url,
    clickhouseUrl: byName('clickhouse').url,
    clickhouseNativePort: resolved.clickhouseTcp,
    clickhouseDatabase,
    clickhouseUser: clickhouseCredentials.writer.user,
    clickhousePassword: clickhouseCredentials.writer.password,
    clickhouseAnalystUser: clickhouseCredentials.analyst.user,
    clickhouseAnalystPassword: clickhouseCredentials.analyst.password,
    s3: { endpoint: byName('s3').url, ...s3Credentials },
  }
  return {
    endpoints,
    ports: resolved,
    parts,
    async stop() {
      await Promise.all(parts.map((p) => p.stop()))
    },
  }
}
