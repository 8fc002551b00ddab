import type { EventStore } from '@argmax/events'
import {
  LABELS_RECEIVED,
  chunkLabels,
  labelRecordId,
  type LabelRecord,
  type LabelsReceivedData,
} from '../domain/labels.ts'
import { subjects, type FeedbackStreamNames } from '../streams.ts'

/** Records in flight at once: JetStream acks in ~0.2 ms each, the batch in a few ms. */
const PARALLEL_PUBLISHES = 16

/**
 * Publishes a request's receipts to `FEEDBACK_LOG`, one `LabelsReceived` record per chunk and
 * model (subject `feedbacklog.<model>`), and resolves once JetStream has stored every one —
 * that is when labels count as accepted. Record ids derive from the request and the chunk, so
 * publishing the same request again is dropped by the stream's duplicate window, and outside it
 * the sink writes the same rows again, which ClickHouse collapses.
 */
export async function publishLabels(
  deps: { store: EventStore; names: FeedbackStreamNames },
  options: {
    requestId: string
    source: string
    receivedAt: Date
    actor: string
    records: readonly LabelRecord[]
    /** Distinguishes chunk ids of one request published in several calls (an import). */
    chunkOffset?: number
  },
): Promise<{ records: number; lastSequence: number }> {
  const byModel = new Map<string, LabelRecord[]>()
  for (const record of options.records) {
    const list = byModel.get(record.model) ?? []
    list.push(record)
    byModel.set(record.model, list)
  }
  const jobs: Array<{ subject: string; id: string; data: LabelsReceivedData }> = []
  let chunk = options.chunkOffset ?? 0
  for (const model of [...byModel.keys()].sort()) {
    for (const labels of chunkLabels(byModel.get(model)!)) {
      jobs.push({
        subject: subjects.labels(deps.names, model),
        id: labelRecordId(options.requestId, chunk++),
        data: {
          requestId: options.requestId,
          source: options.source,
          receivedAt: options.receivedAt.toISOString(),
          labels,
        },
      })
    }
  }
  let lastSequence = 0
  let next = 0
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!
      const result = await deps.store.append(
        job.subject,
        [{ id: job.id, type: LABELS_RECEIVED, data: job.data }],
        {
          expectedLastSubjectSequence: 'any',
          meta: { actor: options.actor, correlationId: options.requestId },
        },
      )
      lastSequence = Math.max(lastSequence, result.lastSequence)
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PUBLISHES, jobs.length) }, worker))
  return { records: jobs.length, lastSequence }
}
