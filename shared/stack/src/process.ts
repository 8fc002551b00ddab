import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { createWriteStream, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import pRetry, { AbortError } from 'p-retry'
import { finished } from 'node:stream/promises'
import { setTimeout as delay } from 'node:timers/promises'

/** How a process ended: its exit code, or the signal that ended it. */
export interface PartExit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** `exit code 1`, `killed by SIGKILL`: for logs and error messages. */
export function describeExit({ code, signal }: PartExit): string {
  return signal ? `killed by ${signal}` : `exit code ${code ?? 'unknown'}`
}

/** A server process this stack started, with what is needed to stop it and explain a failure. */
export interface RunningPart {
  name: string
  pid: number
  /** The URL clients use. */
  url: string
  logFile: string
  /** Settles when the process ends, whoever ended it. */
  exited: Promise<PartExit>
  stop(): Promise<void>
}

export class PartStartError extends Error {
  constructor(
    readonly part: string,
    reason: string,
    readonly hint: string,
  ) {
    super(`${part} could not start: ${reason}\n  how to fix: ${hint}`)
    this.name = 'PartStartError'
  }
}

export interface SpawnedServer {
  child: ChildProcess
  exited: Promise<PartExit>
  stop(graceMs?: number): Promise<void>
}

/** How long an ended process's output may still take to reach its log (see spawnServer). */
const OUTPUT_DRAIN_MS = 1_000

/**
 * Spawns a server with its output appended to a log file. `exited` settles once the process
 * has ended and its last output is in the log file, so whoever reads the log then (to say why
 * it died) sees its last words. `stop` sends SIGTERM, then SIGKILL after the grace period, and
 * resolves only once the process is gone, so callers can rely on "after stop, nothing is left".
 */
export function spawnServer(
  command: string,
  args: string[],
  options: SpawnOptions & { logFile: string },
): SpawnedServer {
  mkdirSync(dirname(options.logFile), { recursive: true })
  const log = createWriteStream(options.logFile, { flags: 'a' })
  // A log that cannot be written (a full disk) must not take the supervisor down with it.
  log.on('error', () => undefined)
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  const outputs = [child.stdout, child.stderr].filter((stream) => stream !== null)
  // Two sources, one file: neither may end it for the other.
  for (const output of outputs) output.pipe(log, { end: false })
  const ended = new Promise<PartExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    // The command could not be spawned at all (e.g. not installed).
    child.once('error', () => resolve({ code: -1, signal: null }))
  })
  const exited = ended.then(async (exit) => {
    // The pipes close once read to the end — unless a grandchild inherited them and lives on,
    // so the wait is bounded.
    const drained = Promise.all(outputs.map((output) => finished(output).catch(() => undefined)))
    await Promise.race([drained, delay(OUTPUT_DRAIN_MS, undefined, { ref: false })])
    for (const output of outputs) output.unpipe(log)
    await new Promise<void>((resolve) => log.end(resolve))
    return exit
  })
  return {
    child,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
        await ended
        clearTimeout(timer)
      }
      await exited
    },
  }
}

/** Polls `check` every 100 ms until it resolves true, the process exits, or the deadline passes. */
export async function waitUntilHealthy(
  part: string,
  server: SpawnedServer,
  check: () => Promise<boolean>,
  { timeoutMs = 60_000, hint, logFile }: { timeoutMs?: number; hint: string; logFile: string },
): Promise<void> {
  let exit: PartExit | undefined
  void server.exited.then((how) => (exit = how))
  try {
    await pRetry(
      async () => {
        if (exit !== undefined) {
          const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
          const reason = `the process ${how} (see ${logFile})`
          throw new AbortError(new PartStartError(part, reason, hint))
        }
        if (!(await check().catch(() => false))) throw new Error(`${part} is not healthy yet`)
      },
      { retries: Infinity, minTimeout: 100, factor: 1, maxRetryTime: timeoutMs },
    )
  } catch (error) {
    if (error instanceof PartStartError) throw error
    await server.stop(2_000)
    throw new PartStartError(part, `not healthy after ${timeoutMs} ms (see ${logFile})`, hint)
  }
}
