import type { NatsConnection } from 'nats'
import type { ConsumerLogger, RunningConsumer } from './consumer.types.ts'

export interface DeferredConsumer {
  /** The consumer once it started (undefined while its stream does not exist yet). */
  readonly consumer: RunningConsumer | undefined
  /** Resolves when the consumer started. */
  readonly started: Promise<RunningConsumer>
  stop(): Promise<void>
}

/**
 * Starts a consumer of another context's stream once that stream exists. Each stream is created
 * by the service that owns it, and services start in any order (a fresh stack, or a context
 * deployed later), so a follower checks every `pollMs` instead of failing its service's start.
 */
export function whenStreamExists(
  nc: NatsConnection,
  stream: string,
  start: () => Promise<RunningConsumer>,
  options: { pollMs?: number; logger?: Pick<ConsumerLogger, 'info' | 'warn'> } = {},
): DeferredConsumer {
  let consumer: RunningConsumer | undefined
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let wake: (() => void) | undefined
  const started = (async () => {
    const jsm = await nc.jetstreamManager()
    let told = false
    for (;;) {
      if (stopped) throw new Error('stopped before the stream existed')
      try {
        await jsm.streams.info(stream)
        break
      } catch (error) {
        if (!told) {
          options.logger?.info({ stream, err: error }, 'waiting for a stream to exist')
          told = true
        }
      }
      await new Promise<void>((resolve) => {
        wake = resolve
        timer = setTimeout(resolve, options.pollMs ?? 5_000)
      })
    }
    consumer = await start()
    if (stopped) await consumer.stop()
    return consumer
  })()
  started.catch((error: unknown) => {
    if (!stopped) options.logger?.warn({ stream, err: error }, 'a consumer could not start')
  })
  return {
    get consumer() {
      return consumer
    },
    started,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      wake?.()
      await consumer?.stop()
    },
  }
}
