import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { createWriteStream, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import pRetry, { AbortError } from 'p-retry'

/** A server process this stack started, with what is needed to stop it and explain a failure. */
export interface RunningPart {
  name: string
  pid: number
  /** The URL clients use. */
  url: string
  logFile: string
  /** Settles with the exit code when the process ends, whoever ended it. */
  exited: Promise<number | null>
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
  exited: Promise<number | null>
  stop(graceMs?: number): Promise<void>
}

/**
 * Spawns a server with its output appended to a log file. `stop` sends SIGTERM, then SIGKILL
 * after the grace period, and resolves only once the process is gone, so callers can rely on
 * "after stop, nothing is left".
 */
export function spawnServer(
  command: string,
  args: string[],
  options: SpawnOptions & { logFile: string },
): SpawnedServer {
  mkdirSync(dirname(options.logFile), { recursive: true })
  const log = createWriteStream(options.logFile, { flags: 'a' })
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.once('error', () => resolve(-1))
  })
  return {
    child,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
      log.end()
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
  let exitCode: number | null | undefined
  void server.exited.then((code) => (exitCode = code))
  try {
    await pRetry(
      async () => {
        if (exitCode !== undefined) {
          const reason = `the process exited with code ${exitCode} (see ${logFile})`
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
