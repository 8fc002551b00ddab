import { readFileSync } from 'node:fs'

/** Process-group signals and /proc lookups the local runner and its tests use. */

/** Signals a whole process group; a group already gone is what the caller wanted. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** The direct children of a process (for tests that kill the trainer itself). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}
