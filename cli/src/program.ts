import type { Command } from 'commander'
import { createApiContext, type ApiContext } from './api-context.ts'
import { registerParkedCommands } from './commands/parked.command.ts'
import { registerProjectionsCommands } from './commands/projections.command.ts'
import { registerDatasetCommands } from './datasets/index.ts'
import { registerDemoCommands } from './demo/index.ts'
import { registerModelCommands } from './models/index.ts'
import { registerPipelineCommands } from './pipelines/index.ts'
import { registerPredictCommands } from './predict/index.ts'
import { registerRolloutCommands } from './rollouts/index.ts'
import { registerQualityCommands } from './quality/index.ts'
import { registerRunCommands } from './runs/index.ts'
import { createStackProgram } from './stack-program.ts'

/** The whole `argmax` command tree (main.ts runs the local stack's commands from stack-program.ts). */
export function createProgram(ctx: ApiContext = createApiContext()): Command {
  const program = createStackProgram()
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
