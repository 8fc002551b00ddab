import type { NatsConnection } from 'nats'
import type { RecordedEvent } from '../envelope.ts'
import type { ParkedMessage } from '../parking/parked-message.ts'
import type { Upcaster } from '../upcasting.ts'

/** The slice of a pino logger the consumer writes to; a service passes its own. */
export interface ConsumerLogger {
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

/** What a handler gets besides the event(s). */
export interface HandlerContext {
  /**
   * Call it whenever real work was done (bytes read, rows written). While it is called the
   * consumer tells JetStream the message is still being worked on (`working()`, every third of
   * the ack wait); once it stops being called for a whole ack wait, the claim lapses: `signal`
   * aborts, and JetStream redelivers the message. A handler that can outlast the ack wait
   * must call it; a short one may ignore it.
   */
  progress(): void
  /** Aborted when the claim lapsed, or when the consumer stops with `stopMode: 'hand-back'`. */
  signal: AbortSignal
  /** True when an operator replays a parked message (`argmax parked replay`). */
  replay: boolean
}

export interface EventContext extends HandlerContext {
  /** 1 on the first delivery; a replay counts on from the deliveries it was parked after. */
  deliveryCount: number
}

export type EventHandler = (event: RecordedEvent, context: EventContext) => Promise<void>
export type BatchHandler = (events: RecordedEvent[], context: HandlerContext) => Promise<void>

/**
 * Called once a message is parked (and again if a replay fails again), for the owner to record
 * a business outcome (e.g. a version REJECTED). Only for messages that decode to an event.
 * Must be idempotent: after a crash it may run twice for one message.
 */
export type ParkedHook = (event: RecordedEvent, parked: ParkedMessage) => Promise<void>

export interface CommonConsumerOptions {
  nc: NatsConnection
  stream: string
  /** The durable consumer's name: processes sharing it share the work; it resumes after restarts. */
  durable: string
  /** nats-server 2.9 filters a consumer on one subject (wildcards allowed). */
  filterSubject?: string
  /** Where a new durable starts: the whole stream (default) or what arrives from now on. */
  deliverFrom?: 'all' | 'new'
  /** How long a delivery may go without progress before JetStream redelivers it (30 s). */
  ackWaitMs?: number
  /** Deliveries before a failing message is parked (5; at least 1, never unlimited). */
  maxDeliver?: number
  /**
   * The wait before redelivering after the handler failed on delivery n: `retryDelaysMs[n-1]`,
   * the last one repeating (1 s, 5 s, 30 s, 2 min).
   */
  retryDelaysMs?: readonly number[]
  /**
   * Deliveries outstanding at once, including failed ones waiting out their retry delay
   * (1000; batch mode at least 4 × maxBatch). Keep it well above the number of poison messages
   * expected at once, or they hold back the good ones until parked.
   */
  maxAckPending?: number
  /** How long one pull waits on an idle stream (5 s); only bounds reconnect checks. */
  idlePullMs?: number
  /**
   * On stop: `finish` (default) waits for the handlers in progress; `hand-back` aborts their
   * `signal` and gives their messages back to JetStream at once (a redelivery, counted).
   */
  stopMode?: 'finish' | 'hand-back'
  upcast?: Upcaster
  onParked?: ParkedHook
  log?: ConsumerLogger
  /** Replicas of the `PARKED` bucket and `PARKED_REQUESTS` stream when this creates them. */
  parkingReplicas?: number
  /** Clock for `parkedAt`. */
  now?: () => Date
}

export interface ConsumerOptions extends CommonConsumerOptions {
  handler: EventHandler
  /** Messages handled at once, each pulled when a slot is free (1). */
  concurrency?: number
}

export interface BatchConsumerOptions extends CommonConsumerOptions {
  /**
   * Gets up to `maxBatch` events in stream order. Resolve only once they are committed: every
   * message of the batch is acknowledged after it resolves. If it throws, the batch is split
   * in halves and retried until the failing messages are alone; those are retried later and
   * parked after `maxDeliver`, the others go through. Redelivery can repeat a batch's events:
   * write idempotently (e.g. keyed by event id).
   */
  handleBatch: BatchHandler
  /** Most events per batch (1000). */
  maxBatch?: number
  /** After the first event of a batch arrives, how long to wait for more (50 ms). */
  maxWaitMs?: number
  /**
   * For streams of large messages: the pull asks for at most this many bytes at once instead
   * of `maxBatch` messages (at most 100 at once then: nats.js's limit for such pulls). Keep it
   * well under nats-server's `max_pending` (64 MiB): a client with more than that waiting to be
   * written is cut off as a slow consumer, and what it was sent comes back only after the ack
   * wait. 5,000 prediction-log messages of up to 64 KiB — or 900 KiB — ask for far more.
   * At least 8 MiB (a message comes whole, and a top-up asks for a quarter of the limit).
   */
  maxPullBytes?: number
}

export interface ConsumerStats {
  /** Messages acknowledged after their handler (or batch) succeeded. */
  handled: number
  /** Handler failures (each retried delivery counts). */
  failed: number
  /** Messages this process parked. */
  parked: number
  /** Claims that lapsed (no progress for a whole ack wait). */
  lapsed: number
  /** Parked messages replayed successfully by this process. */
  replayed: number
}

export interface RunningConsumer {
  readonly stream: string
  readonly durable: string
  stats(): ConsumerStats
  /** Stops pulling, settles the messages in hand (see `stopMode`) and resolves once it has. */
  stop(): Promise<void>
}
