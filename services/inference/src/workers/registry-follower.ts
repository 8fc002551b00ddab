import { decodeEnvelope } from '@argmax/events'
import type { ConsumerMessages, NatsConnection } from 'nats'
import { applyRegistryEvent, type RegistryCatalog } from '../domain/registry-catalog.ts'
import type { InferenceStreamNames } from '../streams.ts'

export interface RegistryFollowerOptions {
  nc: NatsConnection
  names: InferenceStreamNames
  catalog: RegistryCatalog
  /** After the catch-up at start: every model may have changed. */
  onCaughtUp(): void
  /** Afterwards, one call per event that changed a model. */
  onModelChanged(model: string): void
  log: {
    info(fields: Record<string, unknown>, message: string): void
    warn(fields: Record<string, unknown>, message: string): void
    error(fields: Record<string, unknown>, message: string): void
  }
}

export interface RegistryFollower {
  /** Resolves once the catalog holds everything the stream held when the follower started. */
  caughtUp(): Promise<void>
  isCaughtUp(): boolean
  position(): number
  stop(): Promise<void>
}

const RETRY_MS = 1_000

/**
 * Keeps the gateway's registry catalog equal to the REGISTRY stream: at start it reads the
 * stream from its first event (an ordered consumer: in order, no acks, re-created at the right
 * sequence after a reconnect) and applies every model, version and release event, then keeps
 * following. Nothing is stored: a restart reads the stream again, so the catalog is exact
 * whatever happened while the gateway was down. Registry streams hold thousands of events,
 * not millions; the read takes milliseconds. A stream that does not exist yet (the registry
 * has never run) counts as an empty one, and is attached to as soon as it appears.
 */
export function startRegistryFollower(options: RegistryFollowerOptions): RegistryFollower {
  const { nc, names, catalog, log } = options
  const js = nc.jetstream()
  let stopped = false
  let caughtUp = false
  let current: ConsumerMessages | undefined
  let markCaughtUp: () => void = () => undefined
  const ready = new Promise<void>((resolve) => (markCaughtUp = resolve))

  const reachedEnd = () => {
    if (caughtUp) return
    caughtUp = true
    log.info({ position: catalog.position, models: catalog.models.size }, 'registry caught up')
    options.onCaughtUp()
    markCaughtUp()
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        const jsm = await nc.jetstreamManager()
        const info = await jsm.streams.info(names.registry.stream).catch((error: unknown) => {
          if (isStreamNotFound(error)) return undefined
          throw error
        })
        if (!info) {
          reachedEnd()
          await sleep(RETRY_MS)
          continue
        }
        if (info.state.last_seq <= catalog.position) reachedEnd()
        const consumer = await js.consumers.get(names.registry.stream, {
          opt_start_seq: catalog.position + 1,
          // One subject as a string: nats-server 2.9 knows no multi-subject filters.
          filterSubjects: `${names.registry.root}.>`,
        })
        current = await consumer.consume({ max_messages: 1_000 })
        for await (const message of current) {
          if (stopped) break
          let changed: string | undefined
          try {
            changed = applyRegistryEvent(catalog, decodeEnvelope(message.data, message.seq))
          } catch (error) {
            // Not an envelope: nothing the registry publishes; skip it rather than stall serving.
            catalog.position = Math.max(catalog.position, message.seq)
            log.error({ err: error, sequence: message.seq }, 'unreadable registry event skipped')
          }
          if (caughtUp) {
            if (changed) options.onModelChanged(changed)
          } else if (message.info.pending === 0) {
            reachedEnd()
          }
        }
      } catch (error) {
        if (stopped) break
        log.warn(
          { err: error, position: catalog.position },
          'following the registry failed; retrying',
        )
        await sleep(RETRY_MS)
      } finally {
        current = undefined
      }
    }
  })()

  return {
    caughtUp: () => ready,
    isCaughtUp: () => caughtUp,
    position: () => catalog.position,
    async stop() {
      stopped = true
      current?.stop()
      await loop
    },
  }
}

function isStreamNotFound(error: unknown): boolean {
  const apiError = (error as { api_error?: { err_code?: number } }).api_error
  return apiError?.err_code === 10059 || (error as Error)?.message === 'stream not found'
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
