import type { Transaction } from 'kysely'
import type { PlatformVersionLineage } from '@argmax/contracts'
import type { RecordedEvent } from '@argmax/events'
import type { EventProjection } from '@argmax/projections'
import type { FeedbackDatabase } from './tables.ts'

export const DATASET_LINKS_PROJECTION = 'feedback-dataset-links'

/**
 * What became of the dataset versions feedback datasets were registered as, from the DATASET
 * stream: a version whose `UploadStarted` carries feedback lineage is VALIDATING, then VALIDATED
 * or REJECTED. Other versions are not feedback's business and are skipped.
 */
export const datasetLinksProjection: EventProjection<FeedbackDatabase> = {
  name: DATASET_LINKS_PROJECTION,
  handles: ['UploadStarted', 'VersionValidated', 'VersionRejected'],
  async apply(trx, event) {
    await applyDatasetEvent(trx, event)
  },
}

interface UploadStartedData {
  versionId: string
  datasetId: string
  startedAt: string
  lineage?: PlatformVersionLineage
}

async function applyDatasetEvent(
  trx: Transaction<FeedbackDatabase>,
  event: RecordedEvent,
): Promise<void> {
  if (event.type === 'UploadStarted') {
    const d = event.data as UploadStartedData
    if (d.lineage?.kind !== 'feedback') return
    await trx
      .insertInto('dataset_registrations')
      .values({
        version_id: d.versionId,
        dataset_id: d.datasetId,
        status: 'VALIDATING',
        errors: '[]',
        at: d.startedAt,
      })
      .onConflict((oc) => oc.column('version_id').doNothing())
      .execute()
    return
  }
  const d = event.data as {
    versionId: string
    validatedAt?: string
    rejectedAt?: string
    errors?: unknown[]
  }
  await trx
    .updateTable('dataset_registrations')
    .set({
      status: event.type === 'VersionValidated' ? 'VALIDATED' : 'REJECTED',
      errors: JSON.stringify(d.errors ?? []),
      at: d.validatedAt ?? d.rejectedAt ?? event.occurredAt,
    })
    .where('version_id', '=', d.versionId)
    .execute()
}

export async function truncateDatasetLinks(trx: Transaction<FeedbackDatabase>): Promise<void> {
  await trx.deleteFrom('dataset_registrations').execute()
}
