import type { Command } from 'commander'
import { findStackProcesses, isAlive, terminate, waitForExit } from '../stack/processes.ts'
import { readState, removeState } from '../stack/state.ts'
import { pathsOf, type StackCommandOptions } from './stack-options.ts'

export function registerDownCommand(program: Command): void {
  program
    .command('down')
    .description('stop a detached local stack; afterwards none of its processes is left')
    .option('--data-dir <dir>', 'the stack to stop (default: <repo>/.argmax, or ARGMAX_DATA_DIR)')
    .option(
      '--grace <seconds>',
      'how long the supervisor may take to stop everything cleanly',
      '60',
    )
    .action(async (options: StackCommandOptions & { grace: string }) => {
      const paths = pathsOf(options)
      const graceMs = Number(options.grace) * 1000
      if (!Number.isFinite(graceMs) || graceMs < 0)
        throw new Error(`--grace must be a number of seconds, got '${options.grace}'`)
      const state = readState(paths.stateFile)

      // The supervisor stops the services, then the infrastructure, in that order.
      if (state && isAlive(state.supervisorPid)) {
        console.log(`stopping the stack (supervisor pid ${state.supervisorPid}) …`)
        process.kill(state.supervisorPid, 'SIGTERM')
        const [stuck] = await waitForExit([state.supervisorPid], graceMs)
        if (stuck !== undefined)
          console.log(`the supervisor did not stop within ${options.grace} s; killing what is left`)
      }

      // Whatever survived (a stuck supervisor, or one that was SIGKILLed and left orphans):
      // the recorded pids plus anything carrying this stack's marker.
      const recorded = (state?.processes ?? [])
        .map((p) => p.pid)
        .concat(state ? [state.supervisorPid] : [])
      const leftovers = [
        ...new Set([...recorded.filter(isAlive), ...findStackProcesses(paths.dataDir)]),
      ]
      const killed = leftovers.length > 0 ? await terminate(leftovers, 10_000) : []
      if (killed.length > 0)
        console.log(`killed stragglers after the grace period: ${killed.join(', ')}`)

      const remaining = findStackProcesses(paths.dataDir)
      if (remaining.length > 0) {
        console.error(`processes still running: ${remaining.join(', ')}`)
        process.exitCode = 1
        return
      }
      removeState(paths.stateFile)
      console.log(
        state
          ? `stopped; data kept in ${paths.dataDir}`
          : `no stack was running from ${paths.dataDir}`,
      )
    })
}
