import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)

/**
 * Node arguments that run a TypeScript entry point in this process kind: tsx's loader by
 * absolute URL, so it resolves from any working directory, and one process per entry point
 * (the `tsx` CLI would put a wrapper process in between).
 */
export function tsxNodeArgs(entry: string): string[] {
  const loader = pathToFileURL(require.resolve('tsx')).href
  return ['--import', loader, entry]
}
