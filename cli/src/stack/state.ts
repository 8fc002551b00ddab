import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { StackEndpoints } from '@argmax/stack'
import type { LocalPorts } from './ports.ts'
import type { PartSupervision } from './supervised-part.ts'

/**
 * How `argmax status` tells whether a process is ready: an HTTP endpoint answering below
 * `okBelow` (200–299 unless said otherwise), or a PostgreSQL `select 1`.
 */
export type HealthProbe =
  { kind: 'http'; url: string; okBelow?: number } | { kind: 'postgres'; url: string }

/** One process the supervisor runs, as `argmax status` and `argmax down` see it. */
export interface ProcessRecord {
  name: string
  kind: 'infra' | 'service' | 'edge'
  pid: number
  /** What clients use (nats://, postgres://, http://). */
  url: string
  health: HealthProbe
  logFile: string
  /** Restarts and crashes, for the parts the supervisor restarts (all but the edge). */
  supervision?: PartSupervision
}

/**
 * `.argmax/run/state.json`: written by the supervisor, read by every other command. `status`
 * moves starting → ready → stopping; a failed start records `failed` with the reason.
 */
export interface StackState {
  version: 1
  supervisorPid: number
  dataDir: string
  status: 'starting' | 'ready' | 'stopping' | 'failed'
  error?: string
  startedAt: string
  ports: LocalPorts
  edgeUrl: string
  /** The inference gateway's gRPC address (KServe v2); absent in states of older stacks. */
  grpcAddress?: string
  endpoints?: StackEndpoints
  processes: ProcessRecord[]
}

export function readState(stateFile: string): StackState | undefined {
  if (!existsSync(stateFile)) return undefined
  try {
    const parsed = JSON.parse(readFileSync(stateFile, 'utf8')) as StackState
    return parsed.version === 1 ? parsed : undefined
  } catch {
    // A torn or hand-edited file reads as "no stack": `up` then starts afresh and reaps by env.
    return undefined
  }
}

/** Atomic replace, so a reader never sees half a file. */
export function writeState(stateFile: string, state: StackState): void {
  mkdirSync(dirname(stateFile), { recursive: true })
  const tmp = `${stateFile}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`)
  renameSync(tmp, stateFile)
}

export function removeState(stateFile: string): void {
  rmSync(stateFile, { force: true })
}
