import type { Command } from 'commander'
import { stopStack } from '../stack/stop.ts'
import { pathsOf, type StackCommandOptions } from './stack-options.ts'

export function registerDownCommand(program: Command): void {
  program
    .command('down')
    .description('stop the local stack; afterwards none of its processes is left')
    .option('--data-dir <dir>', 'the stack to stop (default: <repo>/.argmax, or ARGMAX_DATA_DIR)')
    .option(
      '--grace <seconds>',
      'how long the supervisor may take to stop everything cleanly',
      '60',
    )
    .action(async (options: StackCommandOptions & { grace: string }) => {
      const paths = pathsOf(options)
      const graceMs = Number(options.grace) * 1000
      if (!Number.isFinite(graceMs) || graceMs < 0) {
        throw new Error(`--grace must be a number of seconds, got '${options.grace}'`)
      }
      const { wasRunning, stragglers } = await stopStack(paths, {
        graceMs,
        log: (line) => console.log(line),
      })
      if (stragglers.length > 0) console.log(`stopped leftover processes: ${stragglers.join(', ')}`)
      console.log(
        wasRunning
          ? `stopped; data kept in ${paths.dataDir}`
          : `no stack was running from ${paths.dataDir}`,
      )
    })
}
