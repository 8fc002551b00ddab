import type { Kysely, Transaction } from 'kysely'
import {
  FEEDBACK_EVENTS,
  type FeedbackDatasetMaterializedData,
  type FeedbackDatasetPinnedData,
  type RetrainRequestedData,
} from '@argmax/contracts'
import type { RecordedEvent } from '@argmax/events'
import type { EventProjection } from '@argmax/projections'
import type { FeedbackDatasetEvent, LabelImportEvent, MonitorEvent } from '../domain/index.ts'
import {
  FEEDBACK_DATASET_EVENT_TYPES,
  LABEL_IMPORT_EVENT_TYPES,
  MODEL_FEEDBACK_EVENT_TYPES,
  MONITOR_EVENT_TYPES,
} from '../domain/index.ts'
import type { FeedbackDatabase } from './tables.ts'

type Db = Kysely<FeedbackDatabase> | Transaction<FeedbackDatabase>

export const FEEDBACK_PROJECTION = 'feedback-catalog'

/**
 * The read model of feedback's own events: monitors and their states, feedback datasets, pins,
 * label imports, retrain requests. Every handler is an upsert or a guarded update, so applying
 * an event twice leaves the same rows.
 */
export const feedbackProjection: EventProjection<FeedbackDatabase> = {
  name: FEEDBACK_PROJECTION,
  handles: [
    ...MONITOR_EVENT_TYPES,
    ...MODEL_FEEDBACK_EVENT_TYPES,
    ...FEEDBACK_DATASET_EVENT_TYPES,
    ...LABEL_IMPORT_EVENT_TYPES,
  ],
  apply: (trx, event) => applyFeedbackEvent(trx, event),
}

export async function applyFeedbackEvent(db: Db, recorded: RecordedEvent): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as
    MonitorEvent | FeedbackDatasetEvent | LabelImportEvent
  switch (event.type) {
    case 'MonitorCreated': {
      const d = event.data
      await db
        .insertInto('monitors')
        .values({
          id: d.monitorId,
          model: d.model,
          owner_id: d.ownerId,
          name: d.name,
          rule: JSON.stringify(d.rule),
          webhook_url: d.webhookUrl,
          retrain: d.retrain,
          is_default: d.isDefault,
          state: 'OK',
          state_since: d.createdAt,
          last_transition: null,
          created_at: d.createdAt,
          updated_at: d.createdAt,
          deleted_at: null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute()
      return
    }
    case 'MonitorUpdated': {
      const d = event.data
      await db
        .updateTable('monitors')
        .set({
          updated_at: d.updatedAt,
          ...(d.name !== undefined ? { name: d.name } : {}),
          ...(d.rule !== undefined ? { rule: JSON.stringify(d.rule) } : {}),
          ...(d.webhookUrl !== undefined ? { webhook_url: d.webhookUrl } : {}),
          ...(d.retrain !== undefined ? { retrain: d.retrain } : {}),
        })
        .where('id', '=', d.monitorId)
        .execute()
      return
    }
    case 'MonitorDeleted':
      await db
        .updateTable('monitors')
        .set({ deleted_at: event.data.deletedAt, updated_at: event.data.deletedAt })
        .where('id', '=', event.data.monitorId)
        .execute()
      return
    case 'MonitorStateChanged': {
      const d = event.data
      await db
        .updateTable('monitors')
        .set({
          state: d.to,
          state_since: d.at,
          last_transition: JSON.stringify({
            from: d.from,
            to: d.to,
            at: d.at,
            reason: d.reason,
            observation: d.observation,
            pendingSince: d.pendingSince,
          }),
        })
        .where('id', '=', d.monitorId)
        .execute()
      return
    }
    case 'FeedbackDatasetRequested': {
      const d = event.data
      await db
        .insertInto('feedback_datasets')
        .values({
          id: d.feedbackDatasetId,
          model: d.model,
          owner_id: d.ownerId,
          requested_by: d.requestedBy,
          selection: JSON.stringify(d.selection),
          format: d.format,
          status: 'REQUESTED',
          versions: '[]',
          dataset_id: d.target.datasetId,
          dataset_version_id: d.target.versionId,
          created_at: d.requestedAt,
          updated_at: d.requestedAt,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute()
      return
    }
    case FEEDBACK_EVENTS.datasetMaterialized: {
      const d = event.data as FeedbackDatasetMaterializedData
      await db
        .updateTable('feedback_datasets')
        .set({
          status: 'MATERIALIZED',
          versions: JSON.stringify(d.versions),
          window_from: d.window.from,
          window_to: d.window.to,
          object: JSON.stringify(d.object),
          row_count: d.rowCount,
          updated_at: d.materializedAt,
        })
        .where('id', '=', d.feedbackDatasetId)
        .execute()
      return
    }
    case 'FeedbackDatasetEmpty':
      await db
        .updateTable('feedback_datasets')
        .set({
          status: 'EMPTY',
          window_from: event.data.window.from,
          window_to: event.data.window.to,
          row_count: 0,
          updated_at: event.data.at,
        })
        .where('id', '=', event.data.feedbackDatasetId)
        .execute()
      return
    case 'FeedbackDatasetFailed':
      await db
        .updateTable('feedback_datasets')
        .set({ status: 'FAILED', error: event.data.error, updated_at: event.data.at })
        .where('id', '=', event.data.feedbackDatasetId)
        .execute()
      return
    case 'LabelImportRequested': {
      const d = event.data
      await db
        .insertInto('imports')
        .values({
          id: d.importId,
          requested_by: d.principal.subject,
          dataset_id: d.datasetId,
          version_id: d.versionId,
          mapping: JSON.stringify(d.mapping),
          status: 'RUNNING',
          accepted: 0,
          rejected: 0,
          errors: '[]',
          created_at: d.requestedAt,
          finished_at: null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute()
      return
    }
    case 'LabelImportCompleted':
      await db
        .updateTable('imports')
        .set({
          status: 'COMPLETED',
          accepted: event.data.accepted,
          rejected: event.data.rejected,
          errors: JSON.stringify(event.data.errors),
          finished_at: event.data.completedAt,
        })
        .where('id', '=', event.data.importId)
        .execute()
      return
    case 'LabelImportFailed':
      await db
        .updateTable('imports')
        .set({
          status: 'FAILED',
          errors: JSON.stringify([{ row: 0, column: '', message: event.data.error }]),
          finished_at: event.data.failedAt,
        })
        .where('id', '=', event.data.importId)
        .execute()
      return
    default:
      return applyModelFeedbackEvent(db, recorded)
  }
}

async function applyModelFeedbackEvent(db: Db, event: RecordedEvent): Promise<void> {
  if (event.type === FEEDBACK_EVENTS.retrainRequested) {
    const d = event.data as RetrainRequestedData
    await db
      .insertInto('retrain_requests')
      .values({
        id: event.id,
        model: d.model,
        version: d.version ?? null,
        trigger: d.trigger,
        monitor_id: d.monitorId ?? null,
        reason: d.reason,
        evidence: JSON.stringify(d.evidence),
        requested_at: d.requestedAt,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute()
  } else if (event.type === FEEDBACK_EVENTS.datasetPinned) {
    const d = event.data as FeedbackDatasetPinnedData
    const row = {
      feedback_dataset_id: d.feedbackDatasetId,
      dataset_id: d.datasetId,
      dataset_version_id: d.datasetVersionId,
      pinned_by: d.pinnedBy,
      pinned_at: d.pinnedAt,
    }
    await db
      .insertInto('pins')
      .values({ model: d.model, ...row })
      .onConflict((oc) => oc.column('model').doUpdateSet(row))
      .execute()
  }
}

export async function truncateFeedback(trx: Transaction<FeedbackDatabase>): Promise<void> {
  for (const table of [
    'monitors',
    'feedback_datasets',
    'pins',
    'imports',
    'retrain_requests',
  ] as const) {
    await trx.deleteFrom(table).execute()
  }
}
