import type { JetStreamManager, NatsConnection } from 'nats'
import type { RecordedEvent } from '../envelope.ts'
import { apiErrorCode } from '../event-store.ts'
import {
  describeError,
  parkedId,
  type ParkedMessage,
  type ParkReason,
} from '../parking/parked-message.ts'
import { openParkingLot, type ParkingLot } from '../parking/parking-lot.ts'
import { claimDeliveries, ConsumerStoppingError, type Claim, type Workable } from './claim.ts'
import type { ConsumerSettings } from './consumer-settings.ts'
import type { ConsumerStats, EventContext, RunningConsumer } from './consumer.types.ts'
import { inConsumerSpan, type Decoded, type DecodedEvent, type RawDelivery } from './delivery.ts'

export type Outcome = { kind: 'done' } | { kind: 'failed'; error: unknown } | { kind: 'lapsed' }

const NO_MESSAGE_FOUND = 10037
/** Waits before retrying an onParked hook that failed (the message is parked already). */
const HOOK_RETRY_DELAYS_MS = [500, 2_000, 5_000]

/**
 * What a running consumer, its batch variant and its attendants (advisories, replays) share:
 * the settings, the parking lot, the claims in hand and the counters.
 */
export class ConsumerRuntime {
  readonly stats: ConsumerStats = { handled: 0, failed: 0, parked: 0, lapsed: 0, replayed: 0 }
  stopping = false
  /** Aborted on stop: interrupts retry waits. */
  readonly stopController = new AbortController()
  private readonly claims = new Set<Claim>()

  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly settings: ConsumerSettings,
    readonly parking: ParkingLot,
    /** One event through the owner's handler (a batch of one for batch consumers). */
    readonly handleOne: (event: RecordedEvent, context: EventContext) => Promise<void>,
  ) {}

  static async open(
    nc: NatsConnection,
    settings: ConsumerSettings,
    handleOne: (event: RecordedEvent, context: EventContext) => Promise<void>,
  ): Promise<ConsumerRuntime> {
    const parking = await openParkingLot(nc, { replicas: settings.parkingReplicas })
    return new ConsumerRuntime(nc, await nc.jetstreamManager(), settings, parking!, handleOne)
  }

  get fields(): Record<string, unknown> {
    return { stream: this.settings.stream, durable: this.settings.durable }
  }

  /**
   * One event through the owner's handler, claimed through `holder` (the delivery, or the
   * replay request) for as long as the handler makes progress, in a span continuing the
   * publisher's trace.
   */
  async handleClaimed(
    holder: Workable,
    raw: RawDelivery,
    decoded: DecodedEvent,
    deliveryCount: number,
    replay: boolean,
  ): Promise<{ outcome: Outcome; claim: Claim }> {
    const { event } = decoded
    const { durable } = this.settings
    const claim = claimDeliveries([holder], this.settings.ackWaitMs)
    const outcome = await this.runClaimed(claim, () =>
      inConsumerSpan(
        `${durable} ${replay ? 'replay' : 'process'} ${event.type}`,
        decoded.trace,
        {
          'messaging.system': 'nats',
          'messaging.destination.name': raw.subject,
          'messaging.consumer.group.name': durable,
          'argmax.event.type': event.type,
          'argmax.event.sequence': raw.sequence,
          'argmax.delivery': deliveryCount,
          'argmax.replay': replay,
        },
        () =>
          this.handleOne(event, {
            deliveryCount,
            progress: claim.progress,
            signal: claim.signal,
            replay,
          }),
      ),
    )
    claim.release()
    return { outcome, claim }
  }

  /** The consumer's handle: stopping ends the pulls, then settles (or hands back) what is in hand. */
  running(loops: Array<{ stop(): Promise<void> }>): RunningConsumer {
    return {
      stream: this.settings.stream,
      durable: this.settings.durable,
      stats: () => ({ ...this.stats }),
      stop: async () => {
        if (this.stopping) return
        this.stopping = true
        if (this.settings.stopMode === 'hand-back') this.handBackAll()
        this.stopController.abort()
        await Promise.all(loops.map((loop) => loop.stop()))
        // Acks are one-way: put the last ones on the wire before the caller closes the
        // connection (a lost one only means a redelivery).
        await this.nc.flush().catch(() => undefined)
        this.settings.log.info(this.fields, 'consumer stopped')
      },
    }
  }

  /** Runs `work`, but stops waiting for it if the claim lapses first. */
  async runClaimed(claim: Claim, work: () => Promise<void>): Promise<Outcome> {
    this.claims.add(claim)
    try {
      const run = work().then(
        (): Outcome => ({ kind: 'done' }),
        (error: unknown): Outcome => ({ kind: 'failed', error }),
      )
      return await Promise.race([run, claim.lapsed.then((): Outcome => ({ kind: 'lapsed' }))])
    } finally {
      this.claims.delete(claim)
    }
  }

  /** A failure caused by our own hand-back on stop: not the message's fault. */
  isHandBack(claim: Claim): boolean {
    return claim.signal.aborted && claim.signal.reason instanceof ConsumerStoppingError
  }

  handBackAll(): void {
    for (const claim of this.claims) claim.handBack()
  }

  /**
   * Parks the message (once per stream, durable and sequence) and runs the owner's hook.
   * False when the entry could not be stored: the caller must not drop the message then.
   */
  async park(
    raw: RawDelivery,
    decoded: Decoded,
    reason: ParkReason,
    error: unknown,
    deliveries: number,
  ): Promise<boolean> {
    const { stream, durable } = this.settings
    const entry: ParkedMessage = {
      id: parkedId(stream, durable, raw.sequence),
      stream,
      durable,
      sequence: raw.sequence,
      subject: raw.subject,
      eventId: decoded.ok ? decoded.event.id : null,
      eventType: decoded.ok ? decoded.event.type : null,
      reason,
      error: describeError(error),
      deliveries,
      parkedAt: this.settings.now().toISOString(),
      status: 'parked',
      replays: 0,
    }
    let stored: 'parked' | 'already_parked'
    try {
      stored = await this.parking.park(entry)
    } catch (parkError) {
      this.settings.log.error(
        { ...this.fields, sequence: raw.sequence, err: parkError },
        'could not park a message; it stays with JetStream',
      )
      return false
    }
    if (stored === 'parked') {
      this.stats.parked++
      this.settings.log.error(
        {
          ...this.fields,
          parked: entry.id,
          sequence: raw.sequence,
          subject: raw.subject,
          type: entry.eventType,
          reason,
          deliveries,
          err: entry.error.message,
        },
        'message parked',
      )
    }
    // Also when parked already: the process that parked it may have died before its hook ran.
    if (decoded.ok) await this.runParkedHook(decoded.event, entry)
    return true
  }

  async runParkedHook(event: RecordedEvent, entry: ParkedMessage): Promise<void> {
    const hook = this.settings.onParked
    if (!hook) return
    for (let attempt = 0; ; attempt++) {
      try {
        await hook(event, entry)
        return
      } catch (error) {
        const delay = HOOK_RETRY_DELAYS_MS[attempt]
        if (delay === undefined || this.stopping) {
          // The entry is there for an operator; a replay runs the hook again if it fails again.
          this.settings.log.error(
            { ...this.fields, parked: entry.id, err: error },
            'the onParked hook failed; the message stays parked',
          )
          return
        }
        await this.sleep(delay)
      }
    }
  }

  /** The original message, from its stream; undefined when the stream no longer holds it. */
  async loadOriginal(sequence: number): Promise<RawDelivery | undefined> {
    try {
      const stored = await this.jsm.streams.getMessage(this.settings.stream, { seq: sequence })
      return {
        data: stored.data,
        headers: stored.header,
        sequence: stored.seq,
        subject: stored.subject,
      }
    } catch (error) {
      if (apiErrorCode(error) === NO_MESSAGE_FOUND) return undefined
      throw error
    }
  }

  /** Resolves after `ms`, or at once when the consumer stops. */
  sleep(ms: number): Promise<void> {
    const signal = this.stopController.signal
    if (signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
    })
  }
}
