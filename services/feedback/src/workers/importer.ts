import {
  handleCommand,
  startConsumer,
  type ConsumerLogger,
  type RunningConsumer,
} from '@argmax/events'
import type { NatsConnection } from 'nats'
import type { FeedbackDeps } from '../application/dependencies.ts'
import { runImport } from '../application/label-imports.ts'
import { labelImportDecider } from '../domain/index.ts'
import { subjects } from '../streams.ts'

export const IMPORTER_DURABLE = 'feedback-label-importer'

/**
 * Runs each requested label import (runImport) on the platform's durable consumer; progress is
 * chunks of rows checked and published, so a long file keeps its claim. An import that fails
 * every attempt is parked and recorded FAILED.
 */
export function startImporter(
  deps: Pick<
    FeedbackDeps,
    'store' | 'names' | 'db' | 's3' | 'storedJson' | 'predictionIdSecret' | 'retentionDays' | 'now'
  >,
  options: { nc: NatsConnection; log?: ConsumerLogger; parkingReplicas?: number },
): Promise<RunningConsumer> {
  return startConsumer({
    nc: options.nc,
    stream: deps.names.feedback.stream,
    durable: IMPORTER_DURABLE,
    filterSubject: `${deps.names.feedback.root}.import.>`,
    ackWaitMs: 60_000,
    maxDeliver: 5,
    retryDelaysMs: [5_000, 30_000, 120_000, 600_000],
    parkingReplicas: options.parkingReplicas ?? 1,
    ...(options.log ? { log: options.log } : {}),
    async handler(event, { progress }) {
      if (event.type !== 'LabelImportRequested') return
      const { importId } = event.data as { importId: string }
      await runImport(deps, importId, { progress, correlationId: event.correlationId })
    },
    async onParked(event, parked) {
      if (event.type !== 'LabelImportRequested') return
      const { importId } = event.data as { importId: string }
      await handleCommand(
        deps.store,
        labelImportDecider,
        subjects.import(deps.names, importId),
        {
          type: 'FailImport',
          data: {
            importId,
            error: `the import failed on every attempt (parked as ${parked.id}): ${parked.error.message}`,
            now: deps.now(),
          },
        },
        { actor: 'system:feedback-imports' },
      )
    },
  })
}
