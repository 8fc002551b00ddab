import { fileURLToPath } from 'node:url'

const launcher = fileURLToPath(new URL('../bin/launch.mjs', import.meta.url))

/**
 * Node arguments that run one of the repository's TypeScript entry points in that node process
 * (`bin/launch.mjs`: the entry's sources bundled once, npm packages loaded by node itself).
 */
export function launchArgs(entry: string): string[] {
  return [launcher, entry]
}
