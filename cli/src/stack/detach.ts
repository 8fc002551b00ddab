import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { StackPaths } from './paths.ts'
import { isAlive, stackMarker } from './processes.ts'
import { readState, type StackState } from './state.ts'
import { tsxNodeArgs } from './tsx.ts'

export interface DetachOptions {
  paths: StackPaths
  /** Passed on to the supervisor as `--port-base`; the defaults when absent. */
  portBase?: number
  repoRoot: string
  log: (line: string) => void
  /** First start may install system packages: allow for apt-get. */
  timeoutMs?: number
}

/**
 * `argmax up --detach`: runs `argmax up` (the supervisor) as a detached background process
 * logging to .argmax/logs/supervisor.log, and returns once its state.json says ready. A
 * failed start is reported with the supervisor's own explanation. If a healthy stack is
 * already running from this data dir, returns its state without starting another.
 */
export async function startDetached({
  paths,
  portBase,
  repoRoot,
  log,
  timeoutMs = 15 * 60_000,
}: DetachOptions): Promise<StackState> {
  const existing = readState(paths.stateFile)
  if (existing && isAlive(existing.supervisorPid)) {
    if (existing.status === 'ready') {
      log(`already running (supervisor pid ${existing.supervisorPid})`)
      return existing
    }
    throw new Error(
      `a stack from ${paths.dataDir} is ${existing.status} (supervisor pid ${existing.supervisorPid}); wait, or run 'argmax down'`,
    )
  }

  mkdirSync(paths.logsDir, { recursive: true })
  const logFile = join(paths.logsDir, 'supervisor.log')
  // Owner-only: the supervisor prints the dev admin token.
  const out = openSync(logFile, 'a', 0o600)
  const args = [
    ...tsxNodeArgs(join(repoRoot, 'cli/src/main.ts')),
    'up',
    '--data-dir',
    paths.dataDir,
  ]
  if (portBase !== undefined) args.push('--port-base', String(portBase))
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, [stackMarker]: paths.dataDir },
  })
  closeSync(out)
  child.unref()
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start the supervisor (${process.execPath})`)
  log(`supervisor started (pid ${pid}); logs in ${logFile}`)

  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const state = readState(paths.stateFile)
    if (state?.supervisorPid === pid) {
      if (state.status === 'ready') return state
      if (state.status === 'failed')
        throw new Error(state.error ?? `the supervisor failed; see ${logFile}`)
    }
    if (!isAlive(pid)) {
      throw new Error(`the supervisor exited before the stack was ready:\n${tail(logFile, 30)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(
    `the stack was not ready after ${timeoutMs / 1000} s; see ${logFile}, then 'argmax down'`,
  )
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)'
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
}
