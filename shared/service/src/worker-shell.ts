import type { NatsSettings } from '@argmax/config'
import type { StreamSpec, Upcaster } from '@argmax/events'
import type { Logger } from '@argmax/telemetry'
import {
  openBaseParts,
  Shutdown,
  startWorkers,
  type BaseParts,
  type ShellS3,
  type ShellSeams,
  type WorkerStarters,
  type Workers,
} from './shell-parts.ts'

/** A process that only works in the background: no HTTP, no PostgreSQL (e.g. a validator). */
export interface WorkerDefinition<Deps, W extends Workers, S extends ShellS3 | undefined> {
  service: string
  streams: (replicas: number) => StreamSpec[]
  upcast?: Upcaster
  s3?: S
  dependencies: (parts: BaseParts<S>) => Deps
  workers: WorkerStarters<Deps, BaseParts<S>, W>
}

export interface WorkerStartOptions extends ShellSeams {
  config: { nats: NatsSettings }
  logger: Logger
}

export interface RunningWorkers<Deps, W extends Workers> {
  deps: Deps
  workers: W
  /** Stops the workers, then closes S3 and NATS. */
  stop(): Promise<void>
}

/** The worker half of the service shell: NATS and streams, S3, the workers, ordered stop. */
export async function startWorkerShell<
  Deps,
  W extends Workers,
  S extends ShellS3 | undefined = undefined,
>(
  definition: WorkerDefinition<Deps, W, S>,
  options: WorkerStartOptions,
): Promise<RunningWorkers<Deps, W>> {
  const shutdown = new Shutdown()
  try {
    const parts = await openBaseParts(
      { ...options, ...definition, nats: options.config.nats },
      shutdown,
    )
    const deps = definition.dependencies(parts)
    const workers = await startWorkers(definition.workers, deps, parts, shutdown)
    return { deps, workers, stop: () => shutdown.run() }
  } catch (error) {
    return shutdown.abandon(error)
  }
}
