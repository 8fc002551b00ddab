import { Command } from 'commander'
import { registerDownCommand } from './commands/down.command.ts'
import { registerLoginCommand } from './commands/login.command.ts'
import { registerStatusCommand } from './commands/status.command.ts'
import { registerUpCommand } from './commands/up.command.ts'

/**
 * `argmax` with only the commands of the local stack (up, status, down, login). They need none
 * of the API commands' modules (about 1,000 more modules to load per process): main.ts
 * runs these from this tree alone, and the supervisor `up` starts is one of them.
 */
export function createStackProgram(): Command {
  const program = new Command('argmax')
    .description('Argmax: datasets, training, registry, inference and feedback, from a terminal')
    .showHelpAfterError()
  registerUpCommand(program)
  registerStatusCommand(program)
  registerDownCommand(program)
  registerLoginCommand(program)
  return program
}
