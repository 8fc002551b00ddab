import type { ConsumerMessages, JsMsg } from 'nats'
import type { ConsumerRuntime } from './runtime.ts'

const RETRY_MIN_MS = 250
const RETRY_MAX_MS = 10_000

export interface PullLoop {
  /** Ends the pull in progress; resolves once the message in hand is settled. */
  stop(): Promise<void>
}

/**
 * Pulls one message at a time from a durable and hands it to `onMessage`, asking for the next
 * only when that resolved — so a message never waits in a local buffer while its ack wait
 * runs. A failed pull (server restarting, connection lost, the durable missing) is logged and
 * retried with a growing pause, the durable ensured again first (`ensure`: created if it went
 * away or never got made); nothing here is fatal but stop().
 */
export function startPullLoop(
  runtime: ConsumerRuntime,
  source: { stream: string; durable: string },
  onMessage: (message: JsMsg) => Promise<void>,
  durable: { ensure: () => Promise<unknown>; ensured: boolean },
): PullLoop {
  const { log, idlePullMs } = runtime.settings
  const js = runtime.nc.jetstream()
  let pulling: ConsumerMessages | undefined
  let failures = 0

  let ensured = durable.ensured
  const loop = (async () => {
    while (!runtime.stopping) {
      try {
        if (!ensured) {
          await durable.ensure()
          ensured = true
        }
        const consumer = await js.consumers.get(source.stream, source.durable)
        if (runtime.stopping) break
        pulling = await consumer.fetch({ max_messages: 1, expires: idlePullMs })
        for await (const message of pulling) {
          // Arrived while stopping: give it straight back rather than start on it.
          if (runtime.stopping) message.nak()
          else await onMessage(message)
        }
        failures = 0
      } catch (error) {
        if (runtime.stopping) break
        ensured = false
        failures++
        const pause = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures, 6))
        log.warn({ ...source, err: error, retryInMs: pause }, 'pull failed; retrying')
        await runtime.sleep(pause)
      } finally {
        pulling = undefined
      }
    }
  })()

  return {
    async stop() {
      pulling?.stop()
      await loop
    },
  }
}
