import type { StackPaths } from './paths.ts'
import { findStackProcesses, isAlive, terminate, waitForExit } from './processes.ts'
import { readFileSync, rmSync } from 'node:fs'
import { readState, removeState } from './state.ts'

export interface StopOutcome {
  /** A supervisor was running and was asked to stop. */
  wasRunning: boolean
  /** Processes that needed SIGTERM/SIGKILL from us after the supervisor's own shutdown. */
  stragglers: number[]
}

/**
 * Stops the stack of a data dir so that none of its processes is left: SIGTERM to the
 * supervisor (it stops the edge, the services, then the infrastructure), then SIGTERM and
 * SIGKILL for anything still carrying the stack's marker — a stuck supervisor, or the orphans
 * of one that was SIGKILLed. Throws if something survives. Recorded pids are not signalled
 * blindly: after a crash they may belong to unrelated processes by now.
 */
export async function stopStack(
  paths: StackPaths,
  { graceMs, log }: { graceMs: number; log: (line: string) => void },
): Promise<StopOutcome> {
  const supervisorPid =
    readState(paths.stateFile)?.supervisorPid ?? readPid(paths.supervisorPidFile)
  // Only a process carrying this stack's marker: after a crash the pid may be someone else's.
  const wasRunning =
    supervisorPid !== undefined &&
    isAlive(supervisorPid) &&
    findStackProcesses(paths.dataDir).includes(supervisorPid)
  if (supervisorPid !== undefined && wasRunning) {
    log(`stopping the stack (supervisor pid ${supervisorPid}) …`)
    process.kill(supervisorPid, 'SIGTERM')
    const [stuck] = await waitForExit([supervisorPid], graceMs)
    if (stuck !== undefined)
      log(`the supervisor did not stop within ${graceMs / 1000} s; killing what is left`)
  }
  // A few rounds: a supervisor killed mid-start may have spawned more between two scans.
  const stragglers: number[] = []
  for (let round = 0; round < 3; round++) {
    const leftovers = findStackProcesses(paths.dataDir)
    if (leftovers.length === 0) break
    await terminate(leftovers, 10_000)
    stragglers.push(...leftovers)
  }
  const remaining = findStackProcesses(paths.dataDir)
  if (remaining.length > 0)
    throw new Error(`processes of the stack still running: ${remaining.join(', ')}`)
  removeState(paths.stateFile)
  rmSync(paths.supervisorPidFile, { force: true })
  return { wasRunning, stragglers }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(pid) && pid > 1 ? pid : undefined
  } catch {
    return undefined
  }
}
