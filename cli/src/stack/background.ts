import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { launchArgs } from '@argmax/stack'
import type { StackPaths } from './paths.ts'
import { isAlive, stackMarker } from './processes.ts'
import { readState, type StackState } from './state.ts'

export interface BackgroundOptions {
  paths: StackPaths
  /** Passed on to the supervisor as `--port-base`; the defaults when absent. */
  portBase?: number
  repoRoot: string
  /** Called between polls while waiting, e.g. to copy the supervisor's log to the terminal. */
  onPoll?: () => void
  /** First start may install system packages: allow for apt-get. */
  timeoutMs?: number
}

export interface BackgroundStack {
  state: StackState
  /** True when a ready stack from this data dir was already running and was left alone. */
  reused: boolean
}

export function supervisorLogOf(paths: StackPaths): string {
  return join(paths.logsDir, 'supervisor.log')
}

/**
 * Starts the supervisor (`argmax up --supervise`) as a background process in a session of
 * its own, logging to <data-dir>/logs/supervisor.log, and resolves once its state.json says
 * ready. Its own session means a Ctrl-C in this terminal reaches only this process, which then
 * asks the supervisor to stop the services before the infrastructure. A failed start is
 * reported with the supervisor's explanation.
 */
export async function startInBackground({
  paths,
  portBase,
  repoRoot,
  onPoll = () => undefined,
  timeoutMs = 15 * 60_000,
}: BackgroundOptions): Promise<BackgroundStack> {
  const existing = readState(paths.stateFile)
  if (existing && isAlive(existing.supervisorPid)) {
    if (existing.status === 'ready') return { state: existing, reused: true }
    throw new Error(
      `a stack from ${paths.dataDir} is ${existing.status} (supervisor pid ${existing.supervisorPid}); wait, or run 'argmax down'`,
    )
  }

  mkdirSync(paths.logsDir, { recursive: true })
  const logFile = supervisorLogOf(paths)
  const out = openSync(logFile, 'a', 0o600)
  const args = [
    ...launchArgs(join(repoRoot, 'cli/src/main.ts')),
    'up',
    '--supervise',
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
  // So that `down` (or a Ctrl-C here) can stop it even before it has written state.json.
  mkdirSync(paths.runDir, { recursive: true })
  writeFileSync(paths.supervisorPidFile, `${pid}\n`)

  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    onPoll()
    const state = readState(paths.stateFile)
    if (state?.supervisorPid === pid) {
      if (state.status === 'ready') return { state, reused: false }
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
