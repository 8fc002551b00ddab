import { context } from '@opentelemetry/api'
import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  type ConsumerConfig,
  type JsMsg,
  type NatsConnection,
} from 'nats'
import { decodeRecorded } from './codec.ts'
import type { RecordedEvent } from './envelope.ts'
import { apiErrorCode } from './event-store.ts'
import { extractTraceContext } from './trace-context.ts'
import { noUpcasting, type Upcaster } from './upcasting.ts'

export interface DeliveryInfo {
  /** 1 on the first delivery, more on redeliveries. */
  deliveryCount: number
  /** For long handlers: tells JetStream the message is still being worked on. */
  working(): void
}

export interface SubscriptionOptions {
  nc: NatsConnection
  stream: string
  /** The durable consumer's name: the subscription resumes where this name left off. */
  durable: string
  /** nats-server 2.9 filters on one subject per consumer. */
  filterSubject?: string
  handler: (event: RecordedEvent, delivery: DeliveryInfo) => Promise<void>
  /** Where a new durable starts: the whole stream, or only what arrives from now on. */
  deliverFrom?: 'all' | 'new'
  ackWaitMs?: number
  /** -1: redeliver forever. */
  maxDeliver?: number
  /** Messages pulled per request. */
  batch?: number
  nakDelayMs?: number
  upcast?: Upcaster
  onError?: (error: unknown, event: RecordedEvent) => void
}

export interface Subscription {
  /** Stops pulling, lets the handler in progress finish, and resolves once it has. */
  stop(): Promise<void>
}

/**
 * A durable pull consumer with explicit acks: an event is acknowledged only after its handler
 * resolved, and a failing handler gets it again after `nakDelayMs`. Handlers run one at a time
 * in stream order.
 */
export async function subscribe({
  nc,
  stream,
  durable,
  filterSubject,
  handler,
  deliverFrom = 'all',
  ackWaitMs = 30_000,
  maxDeliver = -1,
  batch = 64,
  nakDelayMs = 1_000,
  upcast = noUpcasting,
  onError = () => undefined,
}: SubscriptionOptions): Promise<Subscription> {
  const jsm = await nc.jetstreamManager()
  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: deliverFrom === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
    ack_wait: nanos(ackWaitMs),
    max_deliver: maxDeliver,
    max_ack_pending: Math.max(batch * 4, 256),
    ...(filterSubject ? { filter_subject: filterSubject } : {}),
  }
  const existing = await jsm.consumers.info(stream, durable).catch((error: unknown) => {
    if (apiErrorCode(error) === 10014) return undefined // consumer not found
    throw error
  })
  if (!existing) await jsm.consumers.add(stream, config)

  const consumer = await nc.jetstream().consumers.get(stream, durable)
  const messages = await consumer.consume({ max_messages: batch })
  const handle = async (message: JsMsg) => {
    const event = upcast(decodeRecorded(message.data, message.seq))
    try {
      await context.with(extractTraceContext(message.headers), () =>
        handler(event, {
          deliveryCount: message.info.redeliveryCount,
          working: () => message.working(),
        }),
      )
      message.ack()
    } catch (error) {
      onError(error, event)
      message.nak(nakDelayMs)
    }
  }
  const loop = (async () => {
    for await (const message of messages) await handle(message)
  })()
  return {
    async stop() {
      await messages.close()
      await loop
    },
  }
}
