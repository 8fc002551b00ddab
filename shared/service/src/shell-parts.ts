import type { NatsSettings } from '@argmax/config'
import {
  createEventStore,
  ensureStreams,
  type EventStore,
  newEventId,
  type StreamSpec,
  type Upcaster,
} from '@argmax/events'
import { createS3Client, ensureBucket, type S3Client, type S3Settings } from '@argmax/storage'
import type { Logger } from '@argmax/telemetry'
import { connect, type JetStreamManager, type NatsConnection } from 'nats'

/** A bucket the service keeps its objects in, on the object store of `settings`. */
export interface ShellS3 {
  settings: S3Settings
  bucket: string
}

/** Something that runs in the background until stopped (a durable consumer, a schedule). */
export interface Worker {
  stop(): Promise<void>
}

/** Named workers; a value may be undefined where configuration turns a worker off. */
export type Workers = Record<string, Worker | undefined>

/** The seams tests use, shared by both shells: the same code runs, only these differ. */
export interface ShellSeams {
  /** An open connection to use (it is not drained on stop); otherwise one is opened. */
  nc?: NatsConnection
  /** The clock of events and use cases (default: the system clock). */
  now?: () => Date
  /** New aggregate ids (default: UUIDv7). */
  newId?: () => string
}

/** What every part of a service is given: its connections, clock and ids. */
export interface BaseParts<S extends ShellS3 | undefined> {
  service: string
  logger: Logger
  nc: NatsConnection
  jsm: JetStreamManager
  /** The event store on `nc`, with the service's clock and upcasters. */
  store: EventStore
  now: () => Date
  newId: () => string
  /** The S3 client, when the service declares a bucket. */
  s3: S extends ShellS3 ? S3Client : undefined
  bucket: S extends ShellS3 ? string : undefined
}

/**
 * Steps to undo, run last-in first-out: what started last (workers, HTTP) stops first, the
 * connections everything else depends on (NATS) last.
 */
export class Shutdown {
  private readonly steps: Array<() => Promise<unknown>> = []

  add(step: () => Promise<unknown>): void {
    this.steps.unshift(step)
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0)) await step()
  }

  /** After a failed start: undo what was done, then rethrow the reason. */
  async abandon(reason: unknown): Promise<never> {
    await this.run().catch(() => undefined)
    throw reason
  }
}

export interface OpenPartsOptions<S extends ShellS3 | undefined> extends ShellSeams {
  service: string
  logger: Logger
  nats: NatsSettings
  streams: (replicas: number) => StreamSpec[]
  upcast?: Upcaster | undefined
  s3?: S
}

/** NATS (reconnecting forever) with the service's streams ensured, then its S3 bucket. */
export async function openBaseParts<S extends ShellS3 | undefined>(
  options: OpenPartsOptions<S>,
  shutdown: Shutdown,
): Promise<BaseParts<S>> {
  // Reconnect forever: a NATS restart must cost readiness for a while, not the process.
  // noAsyncTraces: otherwise nats.js builds two Errors (capturing the stack) for every request,
  // JetStream publishes included, in case it later times out: a visible share of the CPU in
  // profiles of the gateway's prediction log and of event appends. Our adapters translate NATS
  // errors (503 naming the dependency); what is lost is where a timed-out request started.
  const nc =
    options.nc ??
    (await connect({
      servers: options.nats.url,
      name: options.service,
      maxReconnectAttempts: -1,
      noAsyncTraces: true,
    }))
  if (!options.nc) shutdown.add(() => nc.drain())
  const jsm = await nc.jetstreamManager()
  await ensureStreams(jsm, options.streams(options.nats.streamReplicas))
  const now = options.now ?? (() => new Date())
  const store = createEventStore({ nc, now, ...(options.upcast ? { upcast: options.upcast } : {}) })
  let s3: S3Client | undefined
  if (options.s3) {
    const client = createS3Client(options.s3.settings)
    s3 = client
    shutdown.add(async () => client.destroy())
    await ensureBucket(client, options.s3.bucket)
  }
  return {
    service: options.service,
    logger: options.logger,
    nc,
    jsm,
    store,
    now,
    newId: options.newId ?? newEventId,
    // The conditional types follow `options.s3`, which decided both values just above.
    s3: s3 as BaseParts<S>['s3'],
    bucket: options.s3?.bucket as BaseParts<S>['bucket'],
  }
}

export type WorkerStarters<Deps, Parts, W extends Workers> = {
  [K in keyof W]: (deps: Deps, parts: Parts) => W[K] | Promise<W[K]>
}

/** Starts the workers in declaration order; each is stopped (in reverse) by `shutdown`. */
export async function startWorkers<Deps, Parts, W extends Workers>(
  starters: WorkerStarters<Deps, Parts, W> | undefined,
  deps: Deps,
  parts: Parts,
  shutdown: Shutdown,
): Promise<W> {
  const started: Partial<W> = {}
  for (const name of Object.keys(starters ?? {}) as Array<keyof W>) {
    const worker = await starters![name](deps, parts)
    started[name] = worker
    if (worker) shutdown.add(() => worker.stop())
  }
  return started as W
}
