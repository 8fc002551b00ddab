import { sql, type Kysely, type Transaction } from 'kysely'
import { escapeLike, keysetPage } from '@argmax/projections'
import type {
  ColumnSchema,
  DatasetProfile,
  DatasetView,
  VersionIssue,
  VersionStatus,
  VersionView,
} from '../api/contract.ts'
import type { DatasetFormat } from '../domain/index.ts'
import type { DatasetVersionRow } from './dataset-versions.table.ts'
import type { DatasetRow } from './datasets.table.ts'
import type { DatasetDatabase } from './database.ts'

type Db = Kysely<DatasetDatabase> | Transaction<DatasetDatabase>

export type { DatasetView, VersionView }

export function toDatasetView(row: DatasetRow): DatasetView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tags: row.tags,
    ownerId: row.owner_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deletedAt: row.deleted_at ? row.deleted_at.toISOString() : null,
    versionCount: row.version_count,
  }
}

/** The columns hold what the projection wrote from the events, in the API's shapes. */
export function toVersionView(row: DatasetVersionRow): VersionView {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    number: row.number,
    status: row.status as VersionStatus,
    fileName: row.file_name,
    format: row.format as DatasetFormat,
    size: Number(row.size),
    sha256: row.sha256,
    partSize: Number(row.part_size),
    partCount: row.part_count,
    rowCount: row.row_count === null ? null : Number(row.row_count),
    schema: (row.schema as ColumnSchema[] | null) ?? null,
    profile: (row.profile as DatasetProfile | null) ?? null,
    errors: (row.errors as VersionIssue[] | null) ?? [],
    checksumMismatch: row.checksum_mismatch,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at ? row.completed_at.toISOString() : null,
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
  }
}

export interface DatasetListQuery {
  /** Only this owner's datasets; undefined = every owner (admins, analysts). */
  ownerId?: string
  /** Case-insensitive substring of the name. */
  name?: string
  tag?: string
  includeDeleted?: boolean
  cursor?: string
  limit: number
}

/** Keyset pagination, newest first: the cursor is the last row's (created_at, id). */
export async function listDatasets(
  db: Db,
  query: DatasetListQuery,
): Promise<{ items: DatasetView[]; nextCursor: string | null }> {
  let select = db.selectFrom('datasets').selectAll()
  if (query.ownerId !== undefined) select = select.where('owner_id', '=', query.ownerId)
  if (query.name) select = select.where('name', 'ilike', `%${escapeLike(query.name)}%`)
  if (query.tag) select = select.where(sql<boolean>`tags @> array[${query.tag}]::text[]`)
  if (!query.includeDeleted) select = select.where('deleted_at', 'is', null)
  const { rows, nextCursor } = await keysetPage(select, { at: 'created_at', key: 'id' }, query)
  return { items: rows.map(toDatasetView), nextCursor }
}

export async function findDataset(db: Db, id: string): Promise<DatasetView | undefined> {
  const row = await db.selectFrom('datasets').selectAll().where('id', '=', id).executeTakeFirst()
  return row ? toDatasetView(row) : undefined
}

export async function listVersions(
  db: Db,
  datasetId: string,
  status?: string,
): Promise<VersionView[]> {
  let select = db.selectFrom('dataset_versions').selectAll().where('dataset_id', '=', datasetId)
  if (status) select = select.where('status', '=', status)
  const rows = await select.orderBy('number', 'desc').limit(1000).execute()
  return rows.map(toVersionView)
}

export async function findVersion(db: Db, versionId: string): Promise<VersionView | undefined> {
  const row = await db
    .selectFrom('dataset_versions')
    .selectAll()
    .where('id', '=', versionId)
    .executeTakeFirst()
  return row ? toVersionView(row) : undefined
}

/** Datasets soft-deleted before `cutoff` and not yet purged (purged ones have no row). */
export async function findPurgeableDatasets(db: Db, cutoff: Date, limit = 100): Promise<string[]> {
  const rows = await db
    .selectFrom('datasets')
    .select('id')
    .where('deleted_at', '<=', cutoff)
    .orderBy('deleted_at')
    .limit(limit)
    .execute()
  return rows.map((row) => row.id)
}

export async function versionIdsOf(db: Db, datasetId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('dataset_versions')
    .select('id')
    .where('dataset_id', '=', datasetId)
    .execute()
  return rows.map((row) => row.id)
}

/** Uploads still in progress that started before `cutoff`: abandoned, to be aborted. */
export async function findStaleUploads(
  db: Db,
  cutoff: Date,
  limit = 100,
): Promise<Array<{ versionId: string; datasetId: string }>> {
  const rows = await db
    .selectFrom('dataset_versions')
    .select(['id', 'dataset_id'])
    .where('status', '=', 'UPLOADING')
    .where('created_at', '<', cutoff)
    .orderBy('created_at')
    .limit(limit)
    .execute()
  return rows.map((row) => ({ versionId: row.id, datasetId: row.dataset_id }))
}
