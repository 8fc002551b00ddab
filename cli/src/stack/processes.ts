import { readdirSync, readFileSync } from 'node:fs'
import { basename } from 'node:path'

/** The variable every process of one local stack inherits, naming its data directory. */
export const stackMarker = 'ARGMAX_STACK_DIR'

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: it exists but belongs to someone else (e.g. PostgreSQL running as `postgres`).
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A zombie answers signal 0 but is already dead: only its parent's wait() is missing.
  return processState(pid) !== 'Z'
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).charAt(0)
  } catch {
    return undefined
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls until every pid is gone or the deadline passes; returns those still alive. */
export async function waitForExit(
  pids: number[],
  timeoutMs: number,
  pollMs = 100,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  let alive = pids.filter(isAlive)
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(pollMs)
    alive = alive.filter(isAlive)
  }
  return alive
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // Already gone between the check and the signal: that is the outcome we want.
  }
}

/**
 * SIGTERM, then SIGKILL whatever is left after the grace period. Resolves with the pids that
 * needed SIGKILL (so callers can report stragglers) once every one of them is gone.
 */
export async function terminate(pids: number[], graceMs: number): Promise<number[]> {
  const targets = pids.filter(isAlive)
  for (const pid of targets) signal(pid, 'SIGTERM')
  const stragglers = await waitForExit(targets, graceMs)
  for (const pid of stragglers) signal(pid, 'SIGKILL')
  const survivors = await waitForExit(stragglers, 5_000)
  if (survivors.length > 0) throw new Error(`processes ${survivors.join(', ')} survived SIGKILL`)
  return stragglers
}

/** The infrastructure servers, which name the data directory on their command line. */
const serverBinaries = ['nats-server', 'postgres', 'clickhouse-server', 'clickhouse']

/**
 * Every live process carrying this stack's marker in its environment, or an infrastructure
 * server naming the data directory on its command line (`-D`, `-sd`, `--config-file`; a
 * PostgreSQL backend overwrites its environment with its process title). This finds processes
 * even when state.json is lost, e.g. after the supervisor was SIGKILLed. The calling process
 * and its ancestors (a shell, pnpm) are never included.
 */
export function findStackProcesses(dataDir: string): number[] {
  const exclude = new Set(ancestorsOf(process.pid))
  const marker = `${stackMarker}=${dataDir}`
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || exclude.has(pid)) continue
    const marked = readProc(pid, 'environ')?.split('\0').includes(marker) ?? false
    const args = readProc(pid, 'cmdline')?.split('\0') ?? []
    const isServer = serverBinaries.includes(basename(args[0] ?? ''))
    const named = isServer && args.some((arg) => mentionsDir(arg, dataDir))
    if ((marked || named) && isAlive(pid)) found.push(pid)
  }
  return found
}

/** The pid itself, its parent, its parent's parent… up to init. */
export function ancestorsOf(pid: number): number[] {
  const chain: number[] = []
  for (let current = pid; current > 1 && chain.length < 1_000;) {
    chain.push(current)
    const stat = readProc(current, 'stat')
    if (!stat) break
    current = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  }
  return chain
}

function mentionsDir(arg: string, dataDir: string): boolean {
  const at = arg.indexOf(dataDir)
  if (at === -1) return false
  // `/tmp/a/.argmax` must not match `/tmp/a/.argmax-other`.
  const next = arg.charAt(at + dataDir.length)
  return next === '' || next === '/'
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8')
  } catch {
    return undefined
  }
}
