import {
  ensureSystemPackages,
  PartStartError,
  startInfraPart,
  startStack,
  type InfraPartName,
  type RunningPart,
  type RunningStack,
} from '@argmax/stack'
import type { FastifyInstance } from 'fastify'
import { ensureDevSecret } from './dev-secret.ts'
import { createEdge } from './edge.ts'
import type { StackPaths } from './paths.ts'
import { assertPortsFree } from './port-check.ts'
import { infraPorts, type LocalPorts } from './ports.ts'
import { findStackProcesses, isAlive, stackMarker, terminate } from './processes.ts'
import { startService } from './service-process.ts'
import {
  modelServerEnv,
  modelServerProcesses,
  serviceEnv,
  serviceProcesses,
  type ServiceName,
  type ServiceProcess,
} from './services.ts'
import { readState, removeState, writeState, type ProcessRecord, type StackState } from './state.ts'
import { SupervisedPart, type Clock } from './supervised-part.ts'

export interface SupervisorOptions {
  paths: StackPaths
  ports: LocalPorts
  repoRoot: string
  generateSecret: () => string
  log: (line: string) => void
  now?: () => Date
  /** Aborted by Ctrl-C / SIGTERM during start-up: what already runs is stopped again. */
  signal?: AbortSignal
  /** Time for the restart back-off (tests inject theirs). */
  clock?: Clock
}

export interface RunningSupervisor {
  state: StackState
  jwtSecret: string
  /** Stops the edge, then the services, then the infrastructure; removes state.json. */
  stop(): Promise<void>
}

export class StartInterruptedError extends Error {
  constructor() {
    super('the start was interrupted; everything it had started is stopped again')
  }
}

export class StackAlreadyRunningError extends Error {
  constructor(readonly state: StackState) {
    super(
      `a stack is already running from ${state.dataDir} (supervisor pid ${state.supervisorPid})`,
    )
  }
}

/**
 * Brings the whole local platform up in this process's care: infrastructure, the five
 * services, the edge. Everything started is a child of this process and carries the stack
 * marker in its environment. If any part fails, what did start is stopped again and the error
 * names the part, the reason and the fix. Once everything is ready, a part that dies on its
 * own is started again with a crash back-off (see supervised-part.ts), until `stop`.
 */
export async function startSupervisor({
  paths,
  ports,
  repoRoot,
  generateSecret,
  log,
  now = () => new Date(),
  signal,
  clock,
}: SupervisorOptions): Promise<RunningSupervisor> {
  const previous = readState(paths.stateFile)
  if (previous && previous.supervisorPid !== process.pid && isAlive(previous.supervisorPid)) {
    throw new StackAlreadyRunningError(previous)
  }
  await reapLeftovers(paths.dataDir, log)

  // Inherited by every child: `argmax down` finds stragglers by it even without state.json.
  process.env[stackMarker] = paths.dataDir
  const state: StackState = {
    version: 1,
    supervisorPid: process.pid,
    dataDir: paths.dataDir,
    status: 'starting',
    startedAt: now().toISOString(),
    ports,
    edgeUrl: `http://127.0.0.1:${ports.edge}`,
    grpcAddress: `127.0.0.1:${ports.inferenceGrpc}`,
    processes: [],
  }
  writeState(paths.stateFile, state)

  let stack: RunningStack | undefined
  const services: RunningPart[] = []
  let edge: FastifyInstance | undefined
  let jwtSecret = ''
  let predictionIdSecret = ''
  let trainingRunTokenSecret = ''
  const stopAll = async () => {
    await edge?.close()
    await Promise.all(services.map((s) => s.stop()))
    await stack?.stop()
  }

  // Each step can take seconds; an interrupt is honoured between steps.
  const checkpoint = () => {
    if (signal?.aborted) throw new StartInterruptedError()
  }

  try {
    const installed = ensureSystemPackages(log)
    if (installed.length > 0) log(`installed ${installed.join(', ')}`)
    const { secret, created } = ensureDevSecret(paths.jwtSecretFile, generateSecret)
    jwtSecret = secret
    if (created) log(`created the dev JWT secret in ${paths.jwtSecretFile}`)
    predictionIdSecret = ensureDevSecret(paths.predictionIdSecretFile, generateSecret).secret
    trainingRunTokenSecret = ensureDevSecret(
      paths.trainingRunTokenSecretFile,
      generateSecret,
    ).secret

    await assertPortsFree(ports)
    log(`starting NATS, PostgreSQL, ClickHouse and S3 with data in ${paths.dataDir} …`)
    checkpoint()
    stack = await startStack({ dataDir: paths.dataDir, ports: infraPorts(ports), log })
    checkpoint()
    state.endpoints = stack.endpoints
    state.processes = stack.parts.map((part) => infraRecord(part, ports))
    writeState(paths.stateFile, state)

    log('starting the services …')
    const startOne = serviceStarter({
      paths,
      ports,
      repoRoot,
      stack,
      jwtSecret,
      predictionIdSecret,
      trainingRunTokenSecret,
    })
    const started = await Promise.allSettled(
      allProcesses(ports).map((service) =>
        startOne(service).then((part) => {
          services.push(part)
          log(`${part.name} ready at ${part.url} (pid ${part.pid})`)
          return part
        }),
      ),
    )
    const failures = started.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []))
    if (failures.length > 0)
      throw new AggregateError(failures, failures.map((f) => f.message).join('\n'))
    checkpoint()
    const order = allProcesses(ports).map((s) => s.name)
    services.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name))
    state.processes.push(...services.map(serviceRecord))

    edge = await createEdge({ upstreams: upstreamsOf(services) })
    await edge.listen({ host: '127.0.0.1', port: ports.edge }).catch((error: Error) => {
      throw new PartStartError(
        'edge',
        error.message,
        `free port ${ports.edge} or pick others with --port-base`,
      )
    })
    state.processes.push({
      name: 'edge',
      kind: 'edge',
      pid: process.pid,
      url: state.edgeUrl,
      health: { kind: 'http', url: `${state.edgeUrl}/healthz` },
      logFile: `${paths.logsDir}/supervisor.log`,
    })
    checkpoint()
    state.status = 'ready'
    writeState(paths.stateFile, state)
  } catch (error) {
    await stopAll().catch((stopError: Error) => log(`while cleaning up: ${stopError.message}`))
    writeState(paths.stateFile, {
      ...state,
      status: 'failed',
      error: (error as Error).message,
      processes: [],
    })
    throw error
  }

  let stopping: Promise<void> | undefined
  const stackPorts = infraPorts(ports)
  const supervise = (part: RunningPart, start: () => Promise<RunningPart>) => {
    const kept: SupervisedPart = new SupervisedPart({
      initial: part,
      start,
      log,
      ...(clock ? { clock } : {}),
      onChange: () => {
        if (stopping) return
        const record = state.processes.find((p) => p.name === kept.name)
        if (!record) return
        record.pid = kept.current.pid
        record.supervision = kept.supervision
        writeState(paths.stateFile, state)
      },
    })
    return kept
  }
  const keptInfra = (stack?.parts ?? []).map((part) =>
    supervise(part, () =>
      startInfraPart(part.name as InfraPartName, { dataDir: paths.dataDir, ports: stackPorts }),
    ),
  )
  const startOne = serviceStarter({
    paths,
    ports,
    repoRoot,
    stack: stack!,
    jwtSecret,
    predictionIdSecret,
    trainingRunTokenSecret,
  })
  const keptServices = services.map((part) =>
    supervise(part, () => startOne(allProcesses(ports).find((s) => s.name === part.name)!)),
  )
  for (const kept of [...keptInfra, ...keptServices]) {
    const record = state.processes.find((p) => p.name === kept.name)
    if (record) record.supervision = kept.supervision
  }
  writeState(paths.stateFile, state)
  return {
    state,
    jwtSecret,
    stop() {
      stopping ??= (async () => {
        // Nothing that dies from now on is started again, whatever the order of the stops.
        for (const kept of [...keptServices, ...keptInfra]) kept.halt()
        writeState(paths.stateFile, { ...state, status: 'stopping' })
        await edge?.close()
        await Promise.all(keptServices.map((kept) => kept.stop()))
        await Promise.all(keptInfra.map((kept) => kept.stop()))
        removeState(paths.stateFile)
      })()
      return stopping
    },
  }
}

/** The services, then the model servers the inference gateway drives. */
function allProcesses(ports: LocalPorts): ServiceProcess[] {
  return [...serviceProcesses, ...modelServerProcesses(ports)]
}

/** Starts one process of this stack (a service or a model server), resolved once /readyz says 200. */
function serviceStarter({
  paths,
  ports,
  repoRoot,
  stack,
  jwtSecret,
  predictionIdSecret,
  trainingRunTokenSecret,
}: {
  paths: StackPaths
  ports: LocalPorts
  repoRoot: string
  stack: RunningStack
  jwtSecret: string
  predictionIdSecret: string
  trainingRunTokenSecret: string
}): (service: ServiceProcess) => Promise<RunningPart> {
  return (service) => {
    const modelServer = modelServerProcesses(ports).findIndex((m) => m.name === service.name)
    if (modelServer >= 0) {
      return startService({
        service,
        repoRoot,
        logsDir: paths.logsDir,
        port: ports.modelServers[modelServer]!.http,
        env: modelServerEnv({
          endpoints: stack.endpoints,
          jwtSecret,
          ports,
          index: modelServer,
          cacheDir: paths.modelCacheDir,
          stackDir: paths.dataDir,
        }),
      })
    }
    const port = ports.services[service.name as ServiceName]
    return startService({
      service,
      repoRoot,
      logsDir: paths.logsDir,
      port,
      env: serviceEnv({
        service: service.name as ServiceName,
        endpoints: stack.endpoints,
        port,
        jwtSecret,
        predictionIdSecret,
        ports,
        stackDir: paths.dataDir,
        trainingRunTokenSecret,
      }),
    })
  }
}

/** Processes of an earlier stack on this data dir whose supervisor died without cleaning up. */
async function reapLeftovers(dataDir: string, log: (line: string) => void): Promise<void> {
  const leftovers = findStackProcesses(dataDir)
  if (leftovers.length === 0) return
  log(
    `stopping ${leftovers.length} leftover process(es) of an earlier run: ${leftovers.join(', ')}`,
  )
  await terminate(leftovers, 10_000)
}

function infraRecord(part: RunningPart, ports: LocalPorts): ProcessRecord {
  const base = {
    name: part.name,
    kind: 'infra' as const,
    pid: part.pid,
    url: part.url,
    logFile: part.logFile,
  }
  switch (part.name) {
    case 'nats':
      return {
        ...base,
        health: {
          kind: 'http',
          url: `http://127.0.0.1:${ports.natsMonitor}/healthz?js-enabled-only=true`,
        },
      }
    case 'postgres':
      return { ...base, health: { kind: 'postgres', url: part.url } }
    case 'clickhouse':
      return { ...base, health: { kind: 'http', url: `${part.url}/ping` } }
    default:
      // s3rver answers its root with an XML bucket list; any non-5xx answer means it serves.
      return { ...base, health: { kind: 'http', url: part.url, okBelow: 500 } }
  }
}

function serviceRecord(part: RunningPart): ProcessRecord {
  return {
    name: part.name,
    kind: 'service',
    pid: part.pid,
    url: part.url,
    health: { kind: 'http', url: `${part.url}/readyz` },
    logFile: part.logFile,
  }
}

function upstreamsOf(services: RunningPart[]): Record<ServiceName, string> {
  return Object.fromEntries(services.map((s) => [s.name, s.url])) as Record<ServiceName, string>
}
