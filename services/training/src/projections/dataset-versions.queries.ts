import type { Kysely, Transaction } from 'kysely'
import type { StoredObject } from '@argmax/contracts'
import type { SchemaColumn } from '../domain/index.ts'
import type { TrainingDatabase } from './tables.ts'

type Db = Kysely<TrainingDatabase> | Transaction<TrainingDatabase>

export interface KnownVersion {
  versionId: string
  datasetId: string
  ownerId: string
  status: string
  format: string
  bucket: string
  objectKey: string
  size: number
  sha256: string
  rowCount: number | null
  schema: SchemaColumn[]
  /** Set when the schema was too large for the event: load it from here (see loadSchema). */
  schemaStored: StoredObject | null
  datasetDeleted: boolean
}

export async function findDatasetVersion(
  db: Db,
  versionId: string,
): Promise<KnownVersion | undefined> {
  const row = await db
    .selectFrom('dataset_versions')
    .selectAll()
    .where('version_id', '=', versionId)
    .executeTakeFirst()
  if (!row) return undefined
  return {
    versionId: row.version_id,
    datasetId: row.dataset_id,
    ownerId: row.owner_id,
    status: row.status,
    format: row.format,
    bucket: row.bucket,
    objectKey: row.object_key,
    size: Number(row.size),
    sha256: row.sha256,
    rowCount: row.row_count === null ? null : Number(row.row_count),
    schema: Array.isArray(row.schema) ? (row.schema as SchemaColumn[]) : [],
    schemaStored: (row.schema as { stored?: StoredObject } | null)?.stored ?? null,
    datasetDeleted: row.dataset_deleted,
  }
}
