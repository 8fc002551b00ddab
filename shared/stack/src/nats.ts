import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from 'nats'
import { spawnServer, waitUntilHealthy, type RunningPart } from './process.ts'

export interface NatsOptions {
  dataDir: string
  port: number
  /** The HTTP monitoring port (`/healthz?js-enabled-only=true`). */
  monitorPort: number
}

export async function startNats({ dataDir, port, monitorPort }: NatsOptions): Promise<RunningPart> {
  const storeDir = join(dataDir, 'nats')
  mkdirSync(storeDir, { recursive: true })
  const logFile = join(dataDir, 'logs', 'nats.log')
  const server = spawnServer(
    'nats-server',
    ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)],
    { logFile, env: process.env },
  )
  const url = `nats://127.0.0.1:${port}`
  await waitUntilHealthy(
    'nats',
    server,
    async () => {
      const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`)
      if (!response.ok) return false
      const nc = await connect({ servers: url, reconnect: false, timeout: 1_000 })
      await nc.close()
      return true
    },
    {
      logFile,
      hint: `check that port ${port} is free and 'nats-server --version' works (apt-get install nats-server)`,
    },
  )
  return {
    name: 'nats',
    pid: server.child.pid!,
    url,
    logFile,
    exited: server.exited,
    stop: () => server.stop(),
  }
}
