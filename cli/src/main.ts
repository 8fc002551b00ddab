import { createProgram } from './program.ts'

// The process exits explicitly: a finished command must not linger on an idle socket, and
// `argmax up` (foreground) only returns once everything it started has stopped.
try {
  await createProgram().parseAsync(process.argv)
  process.exit(process.exitCode ?? 0)
} catch (error) {
  console.error(`argmax: ${(error as Error).message}`)
  process.exit(1)
}
