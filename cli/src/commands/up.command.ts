import { Option, type Command } from 'commander'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { hasUsableToken, storeToken } from '../auth/token-file.ts'
import { startInBackground, supervisorLogOf } from '../stack/background.ts'
import { readDevSecret } from '../stack/dev-secret.ts'
import { LogFollower } from '../stack/log-follower.ts'
import { repoRoot, type StackPaths } from '../stack/paths.ts'
import type { LocalPorts } from '../stack/ports.ts'
import { isAlive } from '../stack/processes.ts'
import type { StackState } from '../stack/state.ts'
import { stopStack } from '../stack/stop.ts'
import { formatReadySummary } from '../stack/summary.ts'
import {
  StackAlreadyRunningError,
  StartInterruptedError,
  startSupervisor,
  type RunningSupervisor,
} from '../stack/supervisor.ts'
import { pathsOf, portBaseOf, portsOf, type StackCommandOptions } from './stack-options.ts'

const adminTokenTtl = '12h'
const adminTokenTtlSeconds = 12 * 3_600
const stopGraceMs = 60_000
const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

type UpOptions = StackCommandOptions & { detach?: boolean; supervise?: boolean }

/**
 * `argmax up` runs the supervisor in the background in every mode, so that a Ctrl-C in the
 * terminal reaches only this command, which then stops the services before the
 * infrastructure. `--detach` returns once ready; without it, this command shows the
 * supervisor's log and stops everything on Ctrl-C.
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description(
      'start the local platform: NATS, PostgreSQL, ClickHouse, S3, the five services, two model servers and the edge',
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
    .addOption(
      new Option('--supervise', 'be the supervisor process itself (started by up)').hideHelp(),
    )
    .action(async (options: UpOptions) => {
      const paths = pathsOf(options)
      if (options.supervise) return supervise(paths, portsOf(options))
      const portBase = portBaseOf(options)
      const launch = { paths, repoRoot, ...(portBase === undefined ? {} : { portBase }) }
      if (options.detach) {
        const { state, reused } = await startInBackground(launch)
        if (reused) console.error(`already running (supervisor pid ${state.supervisorPid})`)
        await printReady(paths, state)
        return
      }
      await runAttached(paths, launch)
    })
}

/** Foreground: start in the background, follow the log, stop everything on a signal. */
async function runAttached(
  paths: StackPaths,
  launch: Parameters<typeof startInBackground>[0],
): Promise<void> {
  const follower = new LogFollower(supervisorLogOf(paths), (text) => process.stdout.write(text))
  let stopping: Promise<void> | undefined
  const stop = (reason: string) => {
    stopping ??= (async () => {
      console.log(`\n${reason}: stopping the services, then the infrastructure …`)
      try {
        await stopStack(paths, { graceMs: stopGraceMs, log: (line) => console.log(line) })
        follower.drain()
        console.log(`stopped; data kept in ${paths.dataDir}`)
      } catch (error) {
        console.error(`stopping failed: ${(error as Error).message}; run 'argmax down'`)
        process.exitCode = 1
      }
    })()
    return stopping
  }
  // Installed before anything starts: an interrupt during start-up stops what already runs.
  const onSignal = (signal: NodeJS.Signals) => void stop(signal)
  for (const signal of signals) process.on(signal, onSignal)
  try {
    let state: StackState
    try {
      ;({ state } = await startInBackground({ ...launch, onPoll: () => follower.drain() }))
    } catch (error) {
      if (stopping) return await stopping
      follower.drain()
      console.error(`argmax up failed:\n${(error as Error).message}`)
      process.exitCode = 1
      return
    }
    follower.drain()
    await printReady(paths, state)
    console.log('\nPress Ctrl-C to stop everything.')
    // Follow the supervisor until a signal stops it, or it dies on its own.
    while (!stopping) {
      follower.drain()
      if (!isAlive(state.supervisorPid)) {
        console.error(`the supervisor (pid ${state.supervisorPid}) exited unexpectedly`)
        process.exitCode = 1
        await stop('cleanup')
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    await stopping
  } finally {
    for (const signal of signals) process.off(signal, onSignal)
  }
}

/** The supervisor process: runs everything until SIGTERM / SIGINT, then stops it in order. */
async function supervise(paths: StackPaths, ports: LocalPorts): Promise<void> {
  const log = (line: string) => console.log(`[${new Date().toISOString()}] ${line}`)
  const interrupted = new AbortController()
  let supervisor: RunningSupervisor | undefined
  let finished: () => void = () => undefined
  const stopped = new Promise<void>((resolve) => (finished = resolve))
  const onSignal = (signal: NodeJS.Signals) => {
    if (!supervisor) {
      log(`${signal}: interrupting the start …`)
      interrupted.abort()
      return
    }
    log(`${signal}: stopping the edge, the services, then the infrastructure …`)
    supervisor.stop().then(
      () => {
        log(`stopped; data kept in ${paths.dataDir}`)
        finished()
      },
      (error: Error) => {
        log(`stopping failed: ${error.message}`)
        process.exitCode = 1
        finished()
      },
    )
  }
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
    if (error instanceof StackAlreadyRunningError || error instanceof StartInterruptedError)
      log(error.message)
    else log(`argmax up failed:\n${(error as Error).message}`)
    process.exitCode = 1
    return
  }
  log(`all ready; edge at ${supervisor.state.edgeUrl}`)
  await stopped
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
