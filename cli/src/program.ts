import { Command } from 'commander'
import { createApiContext, type ApiContext } from './api-context.ts'
import { registerDownCommand } from './commands/down.command.ts'
import { registerLoginCommand } from './commands/login.command.ts'
import { registerParkedCommands } from './commands/parked.command.ts'
import { registerProjectionsCommands } from './commands/projections.command.ts'
import { registerStatusCommand } from './commands/status.command.ts'
import { registerUpCommand } from './commands/up.command.ts'
import { registerDatasetCommands } from './datasets/index.ts'
import { registerDemoCommands } from './demo/index.ts'
import { registerModelCommands } from './models/index.ts'
import { registerPipelineCommands } from './pipelines/index.ts'
import { registerPredictCommands } from './predict/index.ts'
import { registerRolloutCommands } from './rollouts/index.ts'
import { registerQualityCommands } from './quality/index.ts'
import { registerRunCommands } from './runs/index.ts'

/** The whole `argmax` command tree; main.ts only parses argv with it. */
export function createProgram(ctx: ApiContext = createApiContext()): Command {
  const program = new Command('argmax')
    .description('Argmax: datasets, training, registry, inference and feedback, from a terminal')
    .showHelpAfterError()
  registerUpCommand(program)
  registerStatusCommand(program)
  registerDownCommand(program)
  registerLoginCommand(program)
  registerProjectionsCommands(program)
  registerParkedCommands(program)
  registerDatasetCommands(program, ctx)
  registerRunCommands(program, ctx)
  registerModelCommands(program, ctx)
  registerPredictCommands(program, ctx)
  registerRolloutCommands(program, ctx)
  registerPipelineCommands(program, ctx)
  registerQualityCommands(program, ctx)
  registerDemoCommands(program)
  return program
}
