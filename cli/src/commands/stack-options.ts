import { resolveDataDir, stackPaths, type StackPaths } from '../stack/paths.ts'
import { defaultPorts, portsFromBase, type LocalPorts } from '../stack/ports.ts'

export interface StackCommandOptions {
  dataDir?: string
  portBase?: string
}

export function pathsOf(options: StackCommandOptions): StackPaths {
  return stackPaths(resolveDataDir(options.dataDir))
}

/** `--port-base`, else ARGMAX_PORT_BASE, else undefined (the default ports). */
export function portBaseOf(
  options: StackCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const base = options.portBase ?? env['ARGMAX_PORT_BASE']
  if (base === undefined) return undefined
  portsFromBase(Number(base)) // validates, with a message naming the flag
  return Number(base)
}

export function portsOf(
  options: StackCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): LocalPorts {
  const base = portBaseOf(options, env)
  return base === undefined ? defaultPorts : portsFromBase(base)
}
