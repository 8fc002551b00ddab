import type { ConsumerMessages, JsMsg, Subscription } from 'nats'
import type { ConsumerRuntime } from './runtime.ts'

const RETRY_MIN_MS = 250
const RETRY_MAX_MS = 10_000
/** How long a stop waits for the messages already on the wire; past it they wait out their ack wait. */
const DRAIN_MS = 2_000

export interface PullLoop {
  /** Ends the pull in progress; resolves once the message in hand is settled. */
  stop(): Promise<void>
}

/** How a pull loop keeps its durable: `ensure` creates it (or brings it to its spec). */
export interface KeptDurable {
  ensure: () => Promise<unknown>
  /** Made already (before the loop started); otherwise the loop makes it before its first pull. */
  ensured: boolean
}

/**
 * The loop around every pull, until the consumer stops: `pull` gets the consumer, pulls and
 * hands the messages over, calling `progressed` after each hand-over. A failed pull (server
 * restarting, connection lost, the durable missing) is logged and retried with a pause that
 * grows until something progresses, the durable ensured again first: one that went away or
 * never got made is made again. Nothing here is fatal but stop().
 */
export async function keepPulling(
  runtime: ConsumerRuntime,
  fields: Record<string, unknown>,
  durable: KeptDurable,
  pull: (progressed: () => void) => Promise<void>,
): Promise<void> {
  let ensured = durable.ensured
  let failures = 0
  while (!runtime.stopping) {
    try {
      if (!ensured) {
        await durable.ensure()
        ensured = true
      }
      await pull(() => {
        failures = 0
      })
    } catch (error) {
      if (runtime.stopping) break
      ensured = false
      failures++
      const pause = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures, 6))
      runtime.settings.log.warn(
        { ...fields, err: error, retryInMs: pause },
        'pull failed; retrying',
      )
      await runtime.sleep(pause)
    }
  }
}

/**
 * Pulls one message at a time from a durable and hands it to `onMessage`, asking for the next
 * only when that resolved — so a message never waits in a local buffer while its ack wait
 * runs. Retried as `keepPulling` says.
 */
export function startPullLoop(
  runtime: ConsumerRuntime,
  source: { stream: string; durable: string },
  onMessage: (message: JsMsg) => Promise<void>,
  durable: KeptDurable,
): PullLoop {
  const js = runtime.nc.jetstream()
  let pulling: ConsumerMessages | undefined

  const loop = keepPulling(runtime, source, durable, async (progressed) => {
    const consumer = await js.consumers.get(source.stream, source.durable)
    if (runtime.stopping) return
    pulling = await consumer.fetch({ max_messages: 1, expires: runtime.settings.idlePullMs })
    try {
      for await (const message of pulling) {
        // Arrived while stopping: give it straight back rather than start on it.
        if (runtime.stopping) message.nak()
        else await onMessage(message)
      }
    } finally {
      pulling = undefined
    }
    progressed()
  })

  return {
    async stop() {
      if (pulling) await endPull(pulling)
      await loop
    },
  }
}

/**
 * Ends a pull without losing what is on its way. JetStream counts a message as delivered when
 * it sends it; stopping the iterator unsubscribes at once, so a message the server sent before
 * it heard of that was dropped here and sat out its whole ack wait before anyone else got it.
 * Draining the pull's subscription lets those arrive (the loop, stopping, hands them back with
 * a nak) and ends the iterator behind them. nats.js keeps that subscription on the iterator
 * and ends the iterator itself when it is drained.
 */
export async function endPull(messages: ConsumerMessages): Promise<void> {
  const { sub } = messages as ConsumerMessages & { sub?: Subscription }
  if (sub && !sub.isClosed()) {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)))
    // Rejected when the connection is closed already: nothing more can arrive then.
    await Promise.race([sub.drain().catch(() => undefined), late])
    clearTimeout(timer)
  }
  messages.stop()
}
