import type { Command } from 'commander'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { hasUsableToken, storeToken } from '../auth/token-file.ts'
import { startDetached } from '../stack/detach.ts'
import { readDevSecret } from '../stack/dev-secret.ts'
import { repoRoot, type StackPaths } from '../stack/paths.ts'
import type { LocalPorts } from '../stack/ports.ts'
import { formatReadySummary } from '../stack/summary.ts'
import {
  StackAlreadyRunningError,
  StartInterruptedError,
  startSupervisor,
  type RunningSupervisor,
} from '../stack/supervisor.ts'
import type { StackState } from '../stack/state.ts'
import { pathsOf, portBaseOf, portsOf, type StackCommandOptions } from './stack-options.ts'

const adminTokenTtl = '12h'
const adminTokenTtlSeconds = 12 * 3_600

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description(
      'start the local platform: NATS, PostgreSQL, ClickHouse, S3, the five services and the edge',
    )
    .option(
      '-d, --detach',
      'return once everything is ready, leaving a supervisor in the background',
    )
    .option(
      '--data-dir <dir>',
      'where data, logs and state live (default: <repo>/.argmax, or ARGMAX_DATA_DIR)',
    )
    .option(
      '--port-base <port>',
      'use consecutive ports from this one (edge = port-base) instead of the defaults',
    )
    .action(async (options: StackCommandOptions & { detach?: boolean }) => {
      const paths = pathsOf(options)
      if (options.detach) {
        const portBase = portBaseOf(options)
        const state = await startDetached({
          paths,
          repoRoot,
          log: (line) => console.error(line),
          ...(portBase === undefined ? {} : { portBase }),
        })
        await printReady(paths, state)
        return
      }
      await runForeground(paths, portsOf(options))
    })
}

async function runForeground(paths: StackPaths, ports: LocalPorts): Promise<void> {
  const log = (line: string) => console.log(`[argmax] ${line}`)
  const interrupted = new AbortController()
  let supervisor: RunningSupervisor | undefined
  let finished: () => void = () => undefined
  const stopped = new Promise<void>((resolve) => (finished = resolve))
  // Installed before anything starts: an interrupt during start-up must stop what already
  // runs, not kill this process and orphan the services. Repeated signals are harmless.
  const onSignal = (signal: NodeJS.Signals) => {
    if (!supervisor) {
      log(`${signal}: interrupting the start …`)
      interrupted.abort()
      return
    }
    log(`${signal}: stopping the services, then the infrastructure …`)
    supervisor.stop().then(
      () => {
        log(`stopped; data kept in ${paths.dataDir}`)
        finished()
      },
      (error: Error) => {
        console.error(`stopping failed: ${error.message}`)
        process.exitCode = 1
        finished()
      },
    )
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of signals) process.on(signal, onSignal)
  try {
    supervisor = await startSupervisor({
      paths,
      ports,
      repoRoot,
      generateSecret: generateDevSecret,
      log,
      signal: interrupted.signal,
    })
  } catch (error) {
    if (error instanceof StackAlreadyRunningError) {
      console.error(`${error.message}; 'argmax status' shows it, 'argmax down' stops it`)
    } else if (error instanceof StartInterruptedError) {
      log(error.message)
    } else {
      console.error(`argmax up failed:\n${(error as Error).message}`)
    }
    process.exitCode = 1
    return
  }
  await printReady(paths, supervisor.state)
  console.log('\nPress Ctrl-C to stop everything.')
  await stopped
  for (const signal of signals) process.off(signal, onSignal)
}

/** Prints the endpoints and a fresh admin token; keeps a still-valid stored login untouched. */
async function printReady(paths: StackPaths, state: StackState): Promise<void> {
  const secret = readDevSecret(paths.jwtSecretFile)
  const token = await mintDevToken({
    secret,
    subject: 'dev-admin',
    roles: ['admin'],
    ttl: adminTokenTtlSeconds,
  })
  if (!hasUsableToken(paths.tokenFile, new Date())) storeToken(paths.tokenFile, token)
  console.log(formatReadySummary(state, token, adminTokenTtl))
}
