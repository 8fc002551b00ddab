import { readFileSync } from 'node:fs'
import { defaultPorts } from './stack/ports.ts'
import { resolveDataDir, stackPaths } from './stack/paths.ts'
import { readState } from './stack/state.ts'

/**
 * What every API command (datasets, runs, models, …) needs to call the platform. Resolved
 * lazily, on first read inside an action, so a command registered at start-up sees the stack
 * as it is when it runs.
 */
export interface ApiContext {
  /** The edge: ARGMAX_API_URL, else the running local stack's edge, else the default edge port. */
  readonly apiUrl: string
  /**
   * The inference gateway's gRPC address: ARGMAX_GRPC_ADDRESS, else the running local stack's,
   * else the default port on loopback.
   */
  readonly grpcAddress: string
  /** Bearer token: ARGMAX_TOKEN, else the one `argmax login` stored; undefined when neither. */
  readonly token: string | undefined
  /**
   * Machine-readable output by default (ARGMAX_JSON=1). Commands also take their own `--json`
   * flag; a program-wide `--json` would swallow theirs (commander gives it to the program).
   */
  readonly json: boolean
}

export function createApiContext(env: NodeJS.ProcessEnv = process.env): ApiContext {
  const paths = () => stackPaths(resolveDataDir(undefined, env))
  return {
    get apiUrl() {
      const configured = env['ARGMAX_API_URL']
      if (configured) return configured.replace(/\/+$/, '')
      return readState(paths().stateFile)?.edgeUrl ?? `http://127.0.0.1:${defaultPorts.edge}`
    },
    get grpcAddress() {
      const configured = env['ARGMAX_GRPC_ADDRESS']
      if (configured) return configured
      return readState(paths().stateFile)?.grpcAddress ?? `127.0.0.1:${defaultPorts.inferenceGrpc}`
    },
    get token() {
      return env['ARGMAX_TOKEN'] || readToken(paths().tokenFile)
    },
    get json() {
      return ['1', 'true', 'yes'].includes((env['ARGMAX_JSON'] ?? '').toLowerCase())
    },
  }
}

function readToken(tokenFile: string): string | undefined {
  try {
    return readFileSync(tokenFile, 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}
