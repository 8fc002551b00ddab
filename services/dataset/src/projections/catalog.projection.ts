import { sql, type Kysely, type Transaction } from 'kysely'
import type { RecordedEvent } from '@argmax/events'
import type { EventProjection } from '@argmax/projections'
import {
  DATASET_EVENT_TYPES,
  VERSION_EVENT_TYPES,
  type DatasetEvent,
  type VersionEvent,
} from '../domain/index.ts'
import type { ReadJsonDocument } from '../application/json-documents.ts'
import type { DatasetDatabase } from './database.ts'

type Db = Kysely<DatasetDatabase> | Transaction<DatasetDatabase>

export const CATALOG_PROJECTION = 'dataset-catalog'
export const CATALOG_EVENT_TYPES: string[] = [...DATASET_EVENT_TYPES, ...VERSION_EVENT_TYPES]

/**
 * The read model behind every query of the dataset API: datasets, their versions, and the
 * parts of uploads in progress. Each handler is an upsert or a guarded update, so applying an
 * event twice (a redelivery before the checkpoint moved) leaves the same rows.
 *
 * A validated version's schema and profile are loaded here, once, from where VersionValidated
 * keeps them (inline or stored in S3 beside the file), so every read serves them from the row
 * as before. A stored document that is gone (its dataset was purged; a rebuild replays events
 * older than the purge) leaves the column null; one whose bytes do not match its reference
 * stops the projection — that is tampering, for an operator to see on /readyz.
 */
export async function applyCatalogEvent(
  db: Db,
  recorded: RecordedEvent,
  readDocument: ReadJsonDocument,
): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as DatasetEvent | VersionEvent
  switch (event.type) {
    case 'DatasetCreated': {
      const d = event.data
      await db
        .insertInto('datasets')
        .values({
          id: d.datasetId,
          name: d.name,
          description: d.description,
          tags: d.tags,
          owner_id: d.ownerId,
          created_at: d.createdAt,
          updated_at: d.createdAt,
          deleted_at: null,
          version_count: 0,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute()
      return
    }
    case 'DatasetUpdated': {
      const { datasetId, updatedAt, name, description, tags } = event.data
      await db
        .updateTable('datasets')
        .set({
          updated_at: updatedAt,
          ...(name !== undefined ? { name } : {}),
          ...(description !== undefined ? { description } : {}),
          ...(tags !== undefined ? { tags } : {}),
        })
        .where('id', '=', datasetId)
        .execute()
      return
    }
    case 'DatasetDeleted':
      await db
        .updateTable('datasets')
        .set({ deleted_at: event.data.deletedAt, updated_at: event.data.deletedAt })
        .where('id', '=', event.data.datasetId)
        .execute()
      return
    case 'DatasetPurged': {
      // The rows go with the files; the event log keeps the history.
      const versionIds = db
        .selectFrom('dataset_versions')
        .select('id')
        .where('dataset_id', '=', event.data.datasetId)
      await db.deleteFrom('upload_parts').where('version_id', 'in', versionIds).execute()
      await db
        .deleteFrom('dataset_versions')
        .where('dataset_id', '=', event.data.datasetId)
        .execute()
      await db.deleteFrom('datasets').where('id', '=', event.data.datasetId).execute()
      return
    }
    case 'UploadStarted': {
      const d = event.data
      const existing = await db
        .selectFrom('dataset_versions')
        .select('id')
        .where('id', '=', d.versionId)
        .executeTakeFirst()
      if (existing) return
      // Numbers follow stream order, which a rebuild replays identically.
      const { next } = await db
        .selectFrom('dataset_versions')
        .select(sql<number>`coalesce(max(number), 0) + 1`.as('next'))
        .where('dataset_id', '=', d.datasetId)
        .executeTakeFirstOrThrow()
      await db
        .insertInto('dataset_versions')
        .values({
          id: d.versionId,
          dataset_id: d.datasetId,
          number: Number(next),
          owner_id: d.ownerId,
          status: 'UPLOADING',
          file_name: d.fileName,
          format: d.format,
          size: d.size,
          sha256: d.sha256,
          part_size: d.partSize,
          part_count: d.partCount,
          bucket: d.bucket,
          object_key: d.objectKey,
          s3_upload_id: d.s3UploadId,
          row_count: null,
          schema: null,
          profile: null,
          errors: '[]',
          checksum_mismatch: false,
          created_at: d.startedAt,
          completed_at: null,
          finished_at: null,
        })
        .execute()
      await db
        .updateTable('datasets')
        .set((eb) => ({ version_count: eb('version_count', '+', 1) }))
        .where('id', '=', d.datasetId)
        .execute()
      return
    }
    case 'UploadPartsRecorded': {
      if (event.data.parts.length === 0) return
      await db
        .insertInto('upload_parts')
        .values(
          event.data.parts.map((part) => ({
            version_id: event.data.versionId,
            part_number: part.partNumber,
            etag: part.etag,
          })),
        )
        .onConflict((oc) =>
          oc
            .columns(['version_id', 'part_number'])
            .doUpdateSet((eb) => ({ etag: eb.ref('excluded.etag') })),
        )
        .execute()
      return
    }
    case 'UploadCompletionStarted':
    case 'UploadCompletionRefused':
      // Clients see an upload being completed as UPLOADING until it is VALIDATING.
      return
    case 'UploadCompleted':
      await db
        .updateTable('dataset_versions')
        .set({ status: 'VALIDATING', completed_at: event.data.completedAt })
        .where('id', '=', event.data.versionId)
        .where('status', '=', 'UPLOADING')
        .execute()
      await db.deleteFrom('upload_parts').where('version_id', '=', event.data.versionId).execute()
      return
    case 'UploadAborted':
      await db
        .updateTable('dataset_versions')
        .set({ status: 'ABORTED', finished_at: event.data.abortedAt })
        .where('id', '=', event.data.versionId)
        .execute()
      await db.deleteFrom('upload_parts').where('version_id', '=', event.data.versionId).execute()
      return
    case 'VersionValidated': {
      const d = event.data
      const [schema, profile] = await Promise.all([readDocument(d.schema), readDocument(d.profile)])
      await db
        .updateTable('dataset_versions')
        .set({
          status: 'VALIDATED',
          row_count: d.rowCount,
          schema: schema === undefined ? null : JSON.stringify(schema),
          profile: profile === undefined ? null : JSON.stringify(profile),
          errors: '[]',
          finished_at: d.validatedAt,
        })
        .where('id', '=', d.versionId)
        .execute()
      return
    }
    case 'VersionRejected': {
      const d = event.data
      await db
        .updateTable('dataset_versions')
        .set({
          status: 'REJECTED',
          errors: JSON.stringify(d.errors),
          checksum_mismatch: d.checksumMismatch,
          finished_at: d.rejectedAt,
        })
        .where('id', '=', d.versionId)
        .execute()
      return
    }
    default: {
      const unknownEvent: never = event
      // Types this projection does not know only move the checkpoint.
      void unknownEvent
      return
    }
  }
}

/** Empties the projection's tables, for a rebuild from sequence 1. */
export async function truncateCatalog(db: Db): Promise<void> {
  await sql`truncate table upload_parts, dataset_versions, datasets`.execute(db)
}

/**
 * The projection as the runner of @argmax/projections takes it (with `datasetUpcast` as its
 * upcaster: it handles the current event shapes only).
 */
export function catalogProjection(
  readDocument: ReadJsonDocument,
): EventProjection<DatasetDatabase> {
  return {
    name: CATALOG_PROJECTION,
    handles: CATALOG_EVENT_TYPES,
    apply: (db, event) => applyCatalogEvent(db, event, readDocument),
  }
}
