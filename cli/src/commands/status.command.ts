import type { Command } from 'commander'
import { checkProcesses } from '../stack/health.ts'
import { isAlive } from '../stack/processes.ts'
import { readState } from '../stack/state.ts'
import { formatStatusTable } from '../stack/summary.ts'
import { pathsOf, type StackCommandOptions } from './stack-options.ts'

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'show every part and service of the local stack, ready or not (exit 1 unless all ready)',
    )
    .option(
      '--data-dir <dir>',
      'the stack to look at (default: <repo>/.argmax, or ARGMAX_DATA_DIR)',
    )
    .option('--json', 'print JSON')
    .action(async (options: StackCommandOptions & { json?: boolean }) => {
      const paths = pathsOf(options)
      const state = readState(paths.stateFile)
      const supervisorAlive = state !== undefined && isAlive(state.supervisorPid)
      if (!state || !supervisorAlive || state.status === 'failed') {
        const why = !state
          ? 'no stack is running'
          : state.status === 'failed'
            ? `the last start failed: ${state.error ?? 'see the supervisor log'}`
            : `the supervisor (pid ${state.supervisorPid}) is gone; 'argmax down' cleans up, 'argmax up' starts again`
        if (options.json)
          console.log(
            JSON.stringify({
              dataDir: paths.dataDir,
              allReady: false,
              status: 'down',
              reason: why,
              parts: [],
            }),
          )
        else console.log(`${why} (data dir ${paths.dataDir})`)
        process.exitCode = 1
        return
      }
      const health = await checkProcesses(state.processes)
      const allReady = state.status === 'ready' && health.length > 0 && health.every((h) => h.ready)
      if (options.json) {
        console.log(
          JSON.stringify(
            {
              dataDir: paths.dataDir,
              status: state.status,
              allReady,
              supervisorPid: state.supervisorPid,
              edgeUrl: state.edgeUrl,
              parts: health,
            },
            null,
            2,
          ),
        )
      } else {
        if (state.status !== 'ready') console.log(`the stack is ${state.status}`)
        console.log(formatStatusTable(health))
      }
      if (!allReady) process.exitCode = 1
    })
}
