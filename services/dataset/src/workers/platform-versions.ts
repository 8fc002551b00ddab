import { FEEDBACK_EVENTS, type FeedbackDatasetMaterializedData } from '@argmax/contracts'
import {
  startConsumer,
  whenStreamExists,
  type ConsumerLogger,
  type DeferredConsumer,
} from '@argmax/events'
import type { NatsConnection } from 'nats'
import type { DatasetDeps } from '../application/dependencies.ts'
import { registerPlatformVersion } from '../application/register-platform-version.ts'

export const PLATFORM_VERSIONS_DURABLE = 'dataset-platform-versions'

/** The stream and subject root of the feedback context (FEEDBACK / `feedback`). */
export interface FeedbackStreamRef {
  stream: string
  root: string
}

/**
 * The dataset context's consumer of feedback datasets: every `FeedbackDatasetMaterialized` on
 * `feedback.dataset.>` becomes a dataset version (registerPlatformVersion), so feedback never
 * calls the dataset API. It starts once the FEEDBACK stream exists (the feedback service creates
 * it, perhaps after this service started), checking every `pollMs`.
 */
export function startPlatformVersions(options: {
  nc: NatsConnection
  deps: Pick<DatasetDeps, 'store' | 'names' | 's3' | 'bucket' | 'now'>
  feedback: FeedbackStreamRef
  log?: ConsumerLogger
  parkingReplicas?: number
  pollMs?: number
}): DeferredConsumer {
  return whenStreamExists(
    options.nc,
    options.feedback.stream,
    () =>
      startConsumer({
        nc: options.nc,
        stream: options.feedback.stream,
        durable: PLATFORM_VERSIONS_DURABLE,
        filterSubject: `${options.feedback.root}.dataset.>`,
        parkingReplicas: options.parkingReplicas ?? 1,
        ...(options.log ? { log: options.log } : {}),
        async handler(event) {
          if (event.type !== FEEDBACK_EVENTS.datasetMaterialized) return
          const outcome = await registerPlatformVersion(
            options.deps,
            event.data as FeedbackDatasetMaterializedData,
            { correlationId: event.correlationId, causationId: event.id },
          )
          options.log?.info?.({ eventId: event.id, outcome }, 'feedback dataset registered')
        },
      }),
    { pollMs: options.pollMs ?? 5_000 },
  )
}
