import pg from 'pg'
import { isAlive } from './processes.ts'
import type { HealthProbe, ProcessRecord } from './state.ts'

export interface ProcessHealth {
  name: string
  kind: ProcessRecord['kind']
  pid: number
  url: string
  alive: boolean
  ready: boolean
  /** Why it is not ready, in a few words. */
  detail?: string
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
    processes.map(async ({ name, kind, pid, url, health }) => {
      const alive = isAlive(pid)
      const failure = alive ? await probe(health) : 'process is not running'
      return {
        name,
        kind,
        pid,
        url,
        alive,
        ready: failure === undefined,
        ...(failure ? { detail: failure } : {}),
      }
    }),
  )
}
