import {
  type ConsumerLogger,
  handleCommand,
  type RunningConsumer,
  startConsumer,
} from '@argmax/events'
import type { NatsConnection } from 'nats'
import type { FeedbackDeps } from '../application/dependencies.ts'
import { materializeFeedbackDataset } from '../application/feedback-datasets.ts'
import { feedbackDatasetDecider } from '../domain/index.ts'
import { subjects } from '../streams.ts'

export const MATERIALIZER_DURABLE = 'feedback-dataset-materializer'

/**
 * Writes each requested feedback dataset's snapshot (materializeFeedbackDataset), one at a time
 * on the platform's durable consumer; a request that fails every attempt is parked and recorded
 * FAILED rather than left REQUESTED.
 */
export function startMaterializer(
  deps: Pick<
    FeedbackDeps,
    | 'store'
    | 'names'
    | 'db'
    | 'analytics'
    | 's3'
    | 'bucket'
    | 'storedJson'
    | 'now'
    | 'retentionDays'
  >,
  options: { nc: NatsConnection; log?: ConsumerLogger; parkingReplicas?: number },
): Promise<RunningConsumer> {
  return startConsumer({
    nc: options.nc,
    stream: deps.names.feedback.stream,
    durable: MATERIALIZER_DURABLE,
    filterSubject: `${deps.names.feedback.root}.dataset.>`,
    ackWaitMs: 120_000,
    maxDeliver: 5,
    retryDelaysMs: [5_000, 30_000, 120_000, 600_000],
    parkingReplicas: options.parkingReplicas ?? 1,
    ...(options.log ? { log: options.log } : {}),
    async handler(event) {
      if (event.type !== 'FeedbackDatasetRequested') return
      const { feedbackDatasetId } = event.data as { feedbackDatasetId: string }
      await materializeFeedbackDataset(deps, feedbackDatasetId, {
        correlationId: event.correlationId,
        causationId: event.id,
      })
    },
    async onParked(event, parked) {
      if (event.type !== 'FeedbackDatasetRequested') return
      const { feedbackDatasetId } = event.data as { feedbackDatasetId: string }
      await handleCommand(
        deps.store,
        feedbackDatasetDecider,
        subjects.dataset(deps.names, feedbackDatasetId),
        {
          type: 'RecordFailure',
          data: {
            feedbackDatasetId,
            error: `the snapshot failed on every attempt (parked as ${parked.id}): ${parked.error.message}`,
            now: deps.now(),
          },
        },
        { actor: 'system:feedback-datasets' },
      )
    },
  })
}
