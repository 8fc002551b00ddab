import {
  startConsumer,
  type ConsumerLogger,
  type RecordedEvent,
  type RunningConsumer,
} from '@argmax/events'
import type { NatsConnection } from 'nats'
import type { DatasetDeps } from '../application/dependencies.ts'
import { rejectAfterValidatorGaveUp, validateVersion } from '../application/validate-version.ts'
import { datasetUpcast, type UploadCompleted } from '../domain/index.ts'
import { versionSubjects } from '../streams.ts'

export const VALIDATOR_DURABLE = 'dataset-validator'

/** Waits before the 2nd, 3rd, … attempt at a file whose validation failed (S3 or NATS trouble). */
export const VALIDATOR_RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000]

export interface ValidatorOptions {
  nc: NatsConnection
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'now'>
  durable?: string
  /**
   * How long a validation may go without reading a byte before JetStream hands the upload to
   * another validator (60 s): a validator reading its file keeps its claim however long the
   * file, one that died or hung loses it after this long.
   */
  ackWaitMs?: number
  /** S3 read timeout (30 s): an open or a read of the object waiting longer fails and is retried. */
  readTimeoutMs?: number
  /** Attempts at one upload before it is parked and the version REJECTED (`internal_error`). */
  maxDeliver?: number
  retryDelaysMs?: readonly number[]
  /** Worker threads for one file (see validateAndProfile); undefined: one per core. */
  workers?: number | undefined
  logger?: ConsumerLogger
  /** Replicas of the PARKED bucket and PARKED_REQUESTS stream if this process creates them. */
  parkingReplicas?: number
}

export interface RunningValidator {
  /** Abandons the file in hand (handed straight back for another validator), then stops. */
  stop(): Promise<void>
  /** Versions this process recorded an outcome for (tests and metrics). */
  readonly handled: { validated: number; rejected: number; skipped: number }
  readonly consumer: RunningConsumer
}

/**
 * The validator: the platform's durable consumer on `dataset.version.>`, validating each
 * completed upload once. What is the validator's own: which event it acts on, what it records,
 * and that bytes read from S3 are its progress (a hung read stops the heartbeat and times out).
 * An upload that fails every attempt is parked by the consumer and its version REJECTED with
 * `internal_error`. validateVersion is idempotent, so a redelivery after a crash costs a re-run
 * at most, never a second outcome.
 */
export async function startValidator(options: ValidatorOptions): Promise<RunningValidator> {
  const { deps } = options
  const handled = { validated: 0, rejected: 0, skipped: 0 }
  const readTimeoutMs = options.readTimeoutMs ?? 30_000
  const log = options.logger
  const versionOf = (event: RecordedEvent) =>
    event.type === 'UploadCompleted' ? (event.data as UploadCompleted['data']).versionId : undefined

  const consumer = await startConsumer({
    nc: options.nc,
    stream: deps.names.stream,
    durable: options.durable ?? VALIDATOR_DURABLE,
    filterSubject: versionSubjects(deps.names),
    ackWaitMs: options.ackWaitMs ?? 60_000,
    maxDeliver: options.maxDeliver ?? 5,
    retryDelaysMs: options.retryDelaysMs ?? VALIDATOR_RETRY_DELAYS_MS,
    stopMode: 'hand-back',
    upcast: datasetUpcast,
    parkingReplicas: options.parkingReplicas ?? 1,
    ...(log ? { log } : {}),
    async handler(event, { signal, progress, deliveryCount }) {
      const versionId = versionOf(event)
      if (versionId === undefined) return
      log?.info({ versionId, delivery: deliveryCount }, 'validating')
      const result = await validateVersion(deps, versionId, {
        signal,
        correlationId: event.correlationId,
        workers: options.workers,
        readTimeoutMs,
        onProgress: progress,
      })
      handled[result.outcome]++
      log?.info({ versionId, outcome: result.outcome }, 'validation recorded')
    },
    async onParked(event, parked) {
      const versionId = versionOf(event)
      if (typeof versionId !== 'string') return
      const recorded = await rejectAfterValidatorGaveUp(
        deps,
        versionId,
        parked,
        event.correlationId,
      )
      log?.warn({ versionId, parked: parked.id, recorded }, 'validation given up')
    },
  })

  return {
    handled,
    consumer,
    stop: () => consumer.stop(),
  }
}
