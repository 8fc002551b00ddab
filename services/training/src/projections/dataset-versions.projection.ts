import { sql, type Kysely, type Transaction } from 'kysely'
import type { RecordedEvent } from '@argmax/events'
import type { EventProjection } from '@argmax/projections'
import type { StoredObject } from '@argmax/contracts'
import type { SchemaColumn } from '../domain/index.ts'
import type { TrainingDatabase } from './tables.ts'

type Db = Kysely<TrainingDatabase> | Transaction<TrainingDatabase>

export const DATASET_VERSIONS_PROJECTION = 'training-dataset-versions'

/**
 * What training reads of the dataset context's events (stream DATASET): a tolerant reader of
 * the published fields it needs — status, owner, schema, where the file is, its format and
 * SHA-256 — so training never calls the dataset API nor reads its tables, and a field the
 * dataset context adds changes nothing here.
 */
interface UploadStartedData {
  versionId: string
  datasetId: string
  ownerId: string
  format: string
  size: number
  sha256: string
  bucket: string
  objectKey: string
}
interface UploadCompletedData {
  versionId: string
  bucket: string
  objectKey: string
}
/**
 * schemaVersion 2 carries the schema as `{ inline }` or, when larger than 256 KiB, as
 * `{ stored }` (a StoredObject beside the file, loaded at submission); schemaVersion 1 carried
 * the array itself.
 */
interface VersionValidatedData {
  versionId: string
  rowCount: number
  size: number
  sha256: string
  schema: unknown
}
interface VersionIdData {
  versionId: string
}
interface DatasetIdData {
  datasetId: string
}

export const DATASET_EVENT_TYPES_READ = [
  'UploadStarted',
  'UploadCompleted',
  'UploadAborted',
  'VersionValidated',
  'VersionRejected',
  'DatasetDeleted',
  'DatasetPurged',
] as const

export async function applyDatasetEvent(db: Db, event: RecordedEvent): Promise<void> {
  switch (event.type) {
    case 'UploadStarted': {
      const d = event.data as UploadStartedData
      await db
        .insertInto('dataset_versions')
        .values({
          version_id: d.versionId,
          dataset_id: d.datasetId,
          owner_id: d.ownerId,
          status: 'UPLOADING',
          format: d.format,
          bucket: d.bucket,
          object_key: d.objectKey,
          size: d.size,
          sha256: d.sha256,
          row_count: null,
          schema: null,
          dataset_deleted: false,
        })
        .onConflict((oc) => oc.column('version_id').doNothing())
        .execute()
      return
    }
    case 'UploadCompleted': {
      const d = event.data as UploadCompletedData
      await db
        .updateTable('dataset_versions')
        .set({ status: 'VALIDATING', bucket: d.bucket, object_key: d.objectKey })
        .where('version_id', '=', d.versionId)
        .where('status', '=', 'UPLOADING')
        .execute()
      return
    }
    case 'UploadAborted':
      await setStatus(db, (event.data as VersionIdData).versionId, 'ABORTED')
      return
    case 'VersionValidated': {
      const d = event.data as VersionValidatedData
      await db
        .updateTable('dataset_versions')
        .set({
          status: 'VALIDATED',
          row_count: d.rowCount,
          size: d.size,
          sha256: d.sha256,
          schema: JSON.stringify(schemaOf(d.schema)),
        })
        .where('version_id', '=', d.versionId)
        .execute()
      return
    }
    case 'VersionRejected':
      await setStatus(db, (event.data as VersionIdData).versionId, 'REJECTED')
      return
    case 'DatasetDeleted':
    case 'DatasetPurged':
      await db
        .updateTable('dataset_versions')
        .set({ dataset_deleted: true })
        .where('dataset_id', '=', (event.data as DatasetIdData).datasetId)
        .execute()
      return
    default:
      return
  }
}

/** The columns, or the reference to them when the dataset context stored them apart. */
function schemaOf(schema: unknown): SchemaColumn[] | { stored: StoredObject } {
  if (Array.isArray(schema)) return schemaColumns(schema)
  const document = (schema ?? {}) as { inline?: unknown; stored?: StoredObject }
  if (document.stored) return { stored: document.stored }
  return schemaColumns(document.inline)
}

/** Only the column names, types and nullability: the profile and widenings stay with dataset. */
export function schemaColumns(schema: unknown): SchemaColumn[] {
  if (!Array.isArray(schema)) return []
  return schema.flatMap((column: unknown) => {
    const c = column as { name?: unknown; type?: unknown; nullable?: unknown }
    return typeof c.name === 'string' && typeof c.type === 'string'
      ? [{ name: c.name, type: c.type as SchemaColumn['type'], nullable: c.nullable === true }]
      : []
  })
}

async function setStatus(db: Db, versionId: string, status: string): Promise<void> {
  await db
    .updateTable('dataset_versions')
    .set({ status })
    .where('version_id', '=', versionId)
    .execute()
}

export async function truncateDatasetVersions(db: Db): Promise<void> {
  await sql`truncate table dataset_versions`.execute(db)
}

export function datasetVersionsProjection(root: string): EventProjection<TrainingDatabase> {
  return {
    name: DATASET_VERSIONS_PROJECTION,
    handles: DATASET_EVENT_TYPES_READ,
    subjects: [`${root}.version.>`, `${root}.dataset.>`],
    apply: applyDatasetEvent,
  }
}
