import { AckPolicy, DeliverPolicy, nanos, type ConsumerConfig, type JetStreamManager } from 'nats'
import { apiErrorCode } from '../event-store.ts'

const CONSUMER_NOT_FOUND = 10014
// 10013 on nats-server 2.9 ("consumer name already in use"), 10148 on later servers.
const CONSUMER_EXISTS = new Set([10013, 10148])

export interface DurableSpec {
  stream: string
  durable: string
  filterSubject?: string | undefined
  deliverFrom: 'all' | 'new'
  ackWaitMs: number
  maxDeliver: number
  maxAckPending: number
}

/**
 * Creates the durable pull consumer, or brings an existing one to the spec (nats-server 2.9
 * updates ack wait, max deliver, max ack pending and the filter in place; where a new durable
 * starts only matters when it is created). Code is the truth about consumers, as about streams.
 *
 * Redelivery backoff is NOT JetStream's `backoff` list: on nats-server 2.9 setting it replaces
 * the ack wait with its first step, so the window in which a silent handler is trusted would
 * change with every delivery. The consumer naks a failed message with the delay it wants
 * instead (see retryDelaysMs), and the ack wait stays the liveness window.
 */
export async function ensureDurable(jsm: JetStreamManager, spec: DurableSpec): Promise<void> {
  const updatable: Partial<ConsumerConfig> = {
    ack_wait: nanos(spec.ackWaitMs),
    max_deliver: spec.maxDeliver,
    max_ack_pending: spec.maxAckPending,
    // Unset, the filter is left alone: nats.js 2.29 names the create request after the filter,
    // so an empty one cannot be sent (drop the durable to stop filtering).
    ...(spec.filterSubject ? { filter_subject: spec.filterSubject } : {}),
  }
  const info = () =>
    jsm.consumers.info(spec.stream, spec.durable).catch((error: unknown) => {
      if (apiErrorCode(error) === CONSUMER_NOT_FOUND) return undefined
      throw error
    })
  let existing = await info()
  if (!existing) {
    try {
      await jsm.consumers.add(spec.stream, {
        ...updatable,
        durable_name: spec.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: spec.deliverFrom === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
      })
      return
    } catch (error) {
      // Another process sharing the durable created it first, maybe with other settings.
      if (!CONSUMER_EXISTS.has(apiErrorCode(error) ?? 0)) throw error
      existing = await info()
      if (!existing) throw error
    }
  }
  const current = existing.config as unknown as Record<string, unknown>
  const changed = Object.entries(updatable).some(([key, value]) => current[key] !== value)
  if (changed) await jsm.consumers.update(spec.stream, spec.durable, updatable)
}
