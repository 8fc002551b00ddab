import pg from 'pg'
import { isAlive } from './processes.ts'
import type { HealthProbe, ProcessRecord } from './state.ts'
import type { PartSupervision } from './supervised-part.ts'

export interface ProcessHealth {
  name: string
  kind: ProcessRecord['kind']
  pid: number
  url: string
  alive: boolean
  ready: boolean
  /** Why it is not ready, in a few words. */
  detail?: string
  logFile: string
  /** Restarts and crashes, as the supervisor recorded them (all parts but the edge). */
  supervision?: PartSupervision
}

export async function probe(health: HealthProbe, timeoutMs = 3_000): Promise<string | undefined> {
  try {
    if (health.kind === 'postgres') {
      const client = new pg.Client({
        connectionString: health.url,
        connectionTimeoutMillis: timeoutMs,
      })
      client.on('error', () => undefined)
      await client.connect()
      try {
        await client.query('select 1')
      } finally {
        await client.end()
      }
      return undefined
    }
    const response = await fetch(health.url, { signal: AbortSignal.timeout(timeoutMs) })
    await response.body?.cancel()
    const okBelow = health.okBelow ?? 300
    return response.status >= 200 && response.status < okBelow
      ? undefined
      : `HTTP ${response.status}`
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code
    return cause ?? (error as Error).message
  }
}

/** Every recorded process: is its pid alive, and does its health probe pass? Probed in parallel. */
export async function checkProcesses(processes: ProcessRecord[]): Promise<ProcessHealth[]> {
  return Promise.all(
    processes.map(async ({ name, kind, pid, url, health, logFile, supervision }) => {
      const between = supervision?.phase === 'backoff' || supervision?.phase === 'starting'
      // Between two runs the recorded pid is the dead one's, which the OS may have reused.
      const alive = !between && isAlive(pid)
      const failure = between
        ? 'being restarted'
        : alive
          ? await probe(health)
          : 'process is not running'
      return {
        name,
        kind,
        pid,
        url,
        alive,
        ready: failure === undefined,
        ...(failure ? { detail: failure } : {}),
        logFile,
        ...(supervision ? { supervision } : {}),
      }
    }),
  )
}
