import { decodeRecorded } from '@argmax/events'
import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type JsMsg,
  type NatsConnection,
} from 'nats'
import type { DatasetDeps } from '../application/dependencies.ts'
import { validateVersion } from '../application/validate-version.ts'
import { versionSubjects } from '../streams.ts'

export const VALIDATOR_DURABLE = 'dataset-validator'

export interface ValidatorOptions {
  nc: NatsConnection
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'now'>
  durable?: string
  /**
   * How long a delivery may go unacknowledged before JetStream hands it to another validator.
   * A validator that is alive says "still working" every third of it, so a long file is never
   * redelivered; one that died (killed mid-file) loses its claim after at most this long.
   */
  ackWaitMs?: number
  /** Worker threads for one file (see validateAndProfile); undefined: one per core. */
  workers?: number | undefined
  /** Wait before retrying after an infrastructure failure (S3 or NATS unreachable). */
  retryDelayMs?: number
  log?: (fields: Record<string, unknown>, message: string) => void
}

export interface RunningValidator {
  /** Finishes (or abandons, leaving it for redelivery) the file in hand, then stops. */
  stop(): Promise<void>
  /** Versions this process recorded an outcome for (tests and metrics). */
  readonly handled: { validated: number; rejected: number; skipped: number }
}

/**
 * The validator: a durable pull consumer of `dataset.version.>` that validates each completed
 * upload once. It acknowledges only after the outcome is recorded, so a crash anywhere before
 * that makes JetStream redeliver the UploadCompleted and the next validator starts the file
 * over; validateVersion is idempotent, so a crash after recording costs one skipped re-run.
 */
export async function startValidator(options: ValidatorOptions): Promise<RunningValidator> {
  const stream = options.deps.names.stream
  const durable = options.durable ?? VALIDATOR_DURABLE
  const ackWaitMs = options.ackWaitMs ?? 60_000
  const retryDelayMs = options.retryDelayMs ?? 5_000
  const log = options.log ?? (() => undefined)
  const jsm = await options.nc.jetstreamManager()
  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: versionSubjects(options.deps.names),
    ack_wait: ackWaitMs * 1_000_000,
    max_ack_pending: 16,
  }
  try {
    await jsm.consumers.info(stream, durable)
    await jsm.consumers.update(stream, durable, { ack_wait: config.ack_wait! })
  } catch {
    await jsm.consumers.add(stream, config)
  }
  const consumer = await options.nc.jetstream().consumers.get(stream, durable)
  const handled = { validated: 0, rejected: 0, skipped: 0 }
  const controller = new AbortController()
  let stopping = false

  async function handle(message: JsMsg): Promise<void> {
    const event = decodeRecorded(message.data, message.seq)
    if (event.type !== 'UploadCompleted') {
      message.ack()
      return
    }
    const { versionId } = event.data as { versionId: string }
    const keepAlive = setInterval(() => message.working(), Math.max(250, ackWaitMs / 3))
    try {
      log({ versionId, delivery: message.info.redeliveryCount }, 'validating')
      const result = await validateVersion(options.deps, versionId, {
        signal: controller.signal,
        correlationId: event.correlationId,
        workers: options.workers,
      })
      handled[result.outcome]++
      log({ versionId, outcome: result.outcome }, 'validation recorded')
      message.ack()
    } catch (error) {
      // Stopping mid-file: hand it straight back so another validator starts it now.
      if (stopping) {
        message.nak()
        return
      }
      log({ versionId, err: String(error) }, 'validation failed; will retry')
      message.nak(retryDelayMs)
    } finally {
      clearInterval(keepAlive)
    }
  }

  const loop = (async () => {
    while (!stopping) {
      try {
        const messages = await consumer.fetch({ max_messages: 1, expires: 2_000 })
        for await (const message of messages) {
          if (stopping) break
          await handle(message)
        }
      } catch (error) {
        if (stopping) break
        log({ err: String(error) }, 'validator fetch failed; retrying')
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryDelayMs, 1_000)))
      }
    }
  })()

  return {
    handled,
    async stop() {
      stopping = true
      controller.abort(new Error('validator stopping'))
      await loop
    },
  }
}
