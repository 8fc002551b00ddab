import { createStackProgram } from './stack-program.ts'

// The process exits explicitly: a finished command must not linger on an idle socket, and
// `argmax up` (foreground) only returns once everything it started has stopped.
try {
  // The local stack's commands (up, status, down, login) run without loading the API
  // commands: a second or more of start-up per call, paid by every `up` twice (it and its
  // supervisor). Anything else, `--help` included, gets the whole tree.
  const stack = createStackProgram()
  const program = stack.commands.some((command) => command.name() === process.argv[2])
    ? stack
    : (await import('./program.ts')).createProgram()
  await program.parseAsync(process.argv)
  process.exit(process.exitCode ?? 0)
} catch (error) {
  console.error(`argmax: ${(error as Error).message}`)
  process.exit(1)
}
