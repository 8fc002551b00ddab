import { sql, type Kysely, type Transaction } from 'kysely'
import { escapeLike, keysetPage } from '@argmax/projections'
import type { Release, StoredObject } from '@argmax/contracts'
import type {
  AliasHistoryEntry,
  AliasView,
  Annotation,
  ModelView,
  RefusedRun,
  ReleaseChange,
  ReleaseView,
  UploadView,
  VersionView,
} from '../api/contract.ts'
import type { ModelUploadRow } from './model-uploads.table.ts'
import type { ModelVersionRow } from './model-versions.table.ts'
import type { ModelRow } from './models.table.ts'
import type { RegistryDatabase } from './database.ts'
import type { ReleaseHistoryRow, ReleaseRow } from './releases.table.ts'

type Db = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>

export type { ModelView, VersionView }

const iso = (value: Date | null) => (value ? value.toISOString() : null)

/** The aliases of a model as clients see them: set ones plus `champion` and `latest`. */
export function aliasMap(
  set: Array<{ alias: string; version: number }>,
  release: Release | null,
  latestLiveVersion: number | null,
): Record<string, number> {
  const aliases: Record<string, number> = {}
  for (const { alias, version } of set) aliases[alias] = version
  if (release) aliases['champion'] = release.stable
  if (latestLiveVersion !== null) aliases['latest'] = latestLiveVersion
  return aliases
}

export function servedBy(release: Release | null, version: number): VersionView['served'] {
  if (!release) return []
  const served: VersionView['served'] = []
  if (release.stable === version) served.push('stable')
  if (release.canary?.version === version) served.push('canary')
  if (release.shadow === version) served.push('shadow')
  return served
}

export function toModelView(
  row: ModelRow,
  release: Release | null,
  aliases: Record<string, number>,
): ModelView {
  return {
    name: row.name,
    ownerId: row.owner_id,
    task: (row.task as ModelView['task']) ?? null,
    description: row.description,
    tags: row.tags,
    origin: row.origin as ModelView['origin'],
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deletedAt: iso(row.deleted_at),
    versionCount: row.version_count,
    latestVersion: row.latest_version,
    release,
    aliases,
  }
}

/** The columns hold what the projection wrote from the events, in the API's shapes. */
export function toVersionView(
  row: ModelVersionRow,
  aliases: string[],
  release: Release | null,
): VersionView {
  return {
    model: row.model,
    version: row.version,
    status: row.deleted_at ? 'deleted' : 'active',
    ownerId: row.owner_id,
    task: row.task as VersionView['task'],
    source: row.source as VersionView['source'],
    artifact: row.artifact as StoredObject,
    signatureRef: row.signature_ref as StoredObject,
    artifacts: row.artifacts as Record<string, StoredObject>,
    metrics: row.metrics as Record<string, number>,
    params: (row.params as Record<string, unknown> | null) ?? null,
    paramsOmitted: row.params_omitted,
    trainer: (row.trainer as VersionView['trainer']) ?? null,
    libraries: (row.libraries as Record<string, string> | null) ?? null,
    target: row.target,
    seed: row.seed === null ? null : Number(row.seed),
    description: row.description,
    lineage: row.lineage as VersionView['lineage'],
    registeredAt: row.registered_at.toISOString(),
    registeredBy: row.registered_by,
    deletedAt: iso(row.deleted_at),
    aliases,
    served: servedBy(release, row.version),
  }
}

export interface ModelListQuery {
  /** Only this owner's models; undefined = every owner (admins, analysts). */
  ownerId?: string
  name?: string
  tag?: string
  includeDeleted?: boolean
  cursor?: string
  limit: number
}

/** Keyset pagination, newest first: the cursor is the last row's (created_at, name). */
export async function listModels(
  db: Db,
  query: ModelListQuery,
): Promise<{ items: ModelView[]; nextCursor: string | null }> {
  let select = db.selectFrom('models').selectAll()
  if (query.ownerId !== undefined) select = select.where('owner_id', '=', query.ownerId)
  if (query.name) select = select.where('name', 'like', `%${escapeLike(query.name)}%`)
  if (query.tag) select = select.where(sql<boolean>`tags @> array[${query.tag}]::text[]`)
  if (!query.includeDeleted) select = select.where('deleted_at', 'is', null)
  const { rows: page, nextCursor } = await keysetPage(
    select,
    { at: 'created_at', key: 'name' },
    query,
  )
  const names = page.map((row) => row.name)
  const [releases, aliases, latest] = await Promise.all([
    releasesOf(db, names),
    setAliasesOf(db, names),
    latestLiveVersions(db, names),
  ])
  return {
    items: page.map((row) =>
      toModelView(
        row,
        releases.get(row.name) ?? null,
        aliasMap(
          aliases.get(row.name) ?? [],
          releases.get(row.name) ?? null,
          latest.get(row.name) ?? null,
        ),
      ),
    ),
    nextCursor,
  }
}

export async function findModelRow(db: Db, name: string): Promise<ModelRow | undefined> {
  return db.selectFrom('models').selectAll().where('name', '=', name).executeTakeFirst()
}

export async function findModel(db: Db, name: string): Promise<ModelView | undefined> {
  const row = await findModelRow(db, name)
  if (!row) return undefined
  const [releases, aliases, latest] = await Promise.all([
    releasesOf(db, [name]),
    setAliasesOf(db, [name]),
    latestLiveVersions(db, [name]),
  ])
  const release = releases.get(name) ?? null
  return toModelView(
    row,
    release,
    aliasMap(aliases.get(name) ?? [], release, latest.get(name) ?? null),
  )
}

export async function refusedRuns(db: Db, model: string, limit = 20): Promise<RefusedRun[]> {
  const rows = await db
    .selectFrom('registration_refusals')
    .selectAll()
    .where('model', '=', model)
    .orderBy('refused_at', 'desc')
    .limit(limit)
    .execute()
  return rows.map((row) => ({
    runId: row.run_id,
    attempt: row.attempt,
    ownerId: row.owner_id,
    reason: row.reason,
    message: row.message,
    refusedAt: row.refused_at.toISOString(),
  }))
}

async function releasesOf(db: Db, names: string[]): Promise<Map<string, Release | null>> {
  if (names.length === 0) return new Map()
  const rows = await db
    .selectFrom('releases')
    .select(['model', 'release'])
    .where('model', 'in', names)
    .execute()
  return new Map(rows.map((row) => [row.model, (row.release as Release | null) ?? null]))
}

async function setAliasesOf(
  db: Db,
  names: string[],
): Promise<Map<string, Array<{ alias: string; version: number }>>> {
  const byModel = new Map<string, Array<{ alias: string; version: number }>>()
  if (names.length === 0) return byModel
  const rows = await db
    .selectFrom('model_aliases')
    .select(['model', 'alias', 'version'])
    .where('model', 'in', names)
    .orderBy('alias')
    .execute()
  for (const row of rows) {
    const list = byModel.get(row.model) ?? []
    list.push({ alias: row.alias, version: row.version })
    byModel.set(row.model, list)
  }
  return byModel
}

async function latestLiveVersions(db: Db, names: string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map()
  const rows = await db
    .selectFrom('model_versions')
    .select(['model', sql<number>`max(version)`.as('latest')])
    .where('model', 'in', names)
    .where('deleted_at', 'is', null)
    .groupBy('model')
    .execute()
  return new Map(rows.map((row) => [row.model, Number(row.latest)]))
}

export async function findRelease(db: Db, model: string): Promise<ReleaseView> {
  const row = await db
    .selectFrom('releases')
    .selectAll()
    .where('model', '=', model)
    .executeTakeFirst()
  return toReleaseView(model, row)
}

export function toReleaseView(model: string, row: ReleaseRow | undefined): ReleaseView {
  if (!row) {
    return {
      model,
      release: null,
      sequence: 0,
      kind: null,
      reason: null,
      changedAt: null,
      changedBy: null,
    }
  }
  return {
    model,
    release: (row.release as Release | null) ?? null,
    sequence: Number(row.sequence),
    kind: row.kind as ReleaseChange['kind'],
    reason: row.reason,
    changedAt: row.changed_at.toISOString(),
    changedBy: row.changed_by,
  }
}

export async function releaseHistory(
  db: Db,
  model: string,
  limit: number,
): Promise<ReleaseChange[]> {
  const rows = await db
    .selectFrom('release_history')
    .selectAll()
    .where('model', '=', model)
    .orderBy('sequence', 'desc')
    .limit(limit)
    .execute()
  return rows.map(toReleaseChange)
}

function toReleaseChange(row: ReleaseHistoryRow): ReleaseChange {
  return {
    sequence: Number(row.sequence),
    release: (row.release as Release | null) ?? null,
    previous: (row.previous as Release | null) ?? null,
    kind: row.kind as ReleaseChange['kind'],
    reason: row.reason,
    breaking: row.breaking,
    changedAt: row.changed_at.toISOString(),
    changedBy: row.changed_by,
  }
}

export async function listVersionRows(
  db: Db,
  model: string,
  options: { includeDeleted: boolean },
): Promise<ModelVersionRow[]> {
  let select = db.selectFrom('model_versions').selectAll().where('model', '=', model)
  if (!options.includeDeleted) select = select.where('deleted_at', 'is', null)
  return select.orderBy('version', 'desc').limit(10_000).execute()
}

export async function findVersionRow(
  db: Db,
  model: string,
  version: number,
): Promise<ModelVersionRow | undefined> {
  return db
    .selectFrom('model_versions')
    .selectAll()
    .where('model', '=', model)
    .where('version', '=', version)
    .executeTakeFirst()
}

/** A version with its aliases and the parts of the release it serves. */
export async function findVersion(
  db: Db,
  model: string,
  version: number,
): Promise<VersionView | undefined> {
  const row = await findVersionRow(db, model, version)
  if (!row) return undefined
  const [release, aliases] = await Promise.all([findRelease(db, model), aliasesOfModel(db, model)])
  return toVersionView(row, namesFor(aliases, version), release.release)
}

export async function aliasesOfModel(db: Db, model: string): Promise<Record<string, number>> {
  const [releases, set, latest] = await Promise.all([
    releasesOf(db, [model]),
    setAliasesOf(db, [model]),
    latestLiveVersions(db, [model]),
  ])
  return aliasMap(set.get(model) ?? [], releases.get(model) ?? null, latest.get(model) ?? null)
}

/** The alias names that point at `version`. */
export function namesFor(aliases: Record<string, number>, version: number): string[] {
  return Object.entries(aliases)
    .filter(([, target]) => target === version)
    .map(([alias]) => alias)
    .sort()
}

export async function listAliases(db: Db, model: string): Promise<AliasView[]> {
  const [rows, release, latest] = await Promise.all([
    db
      .selectFrom('model_aliases')
      .selectAll()
      .where('model', '=', model)
      .orderBy('alias')
      .execute(),
    findRelease(db, model),
    latestLiveVersions(db, [model]),
  ])
  const items: AliasView[] = rows.map((row) => ({
    alias: row.alias,
    version: row.version,
    computed: false,
    updatedAt: row.updated_at.toISOString(),
    updatedBy: row.updated_by,
  }))
  if (release.release) {
    items.push({
      alias: 'champion',
      version: release.release.stable,
      computed: true,
      updatedAt: release.changedAt,
      updatedBy: release.changedBy,
    })
  }
  const newest = latest.get(model)
  if (newest !== undefined) {
    items.push({
      alias: 'latest',
      version: newest,
      computed: true,
      updatedAt: null,
      updatedBy: null,
    })
  }
  return items.sort((a, b) => a.alias.localeCompare(b.alias))
}

export async function aliasHistory(
  db: Db,
  model: string,
  alias: string,
  limit: number,
): Promise<AliasHistoryEntry[]> {
  if (alias === 'champion') {
    // The champion moves only with the release: its history is the release history.
    const changes = await releaseHistory(db, model, limit)
    return changes
      .filter((c) => (c.release?.stable ?? null) !== (c.previous?.stable ?? null))
      .map((c) => ({
        sequence: c.sequence,
        alias,
        version: c.release?.stable ?? null,
        previous: c.previous?.stable ?? null,
        reason: c.kind,
        at: c.changedAt,
        actor: c.changedBy,
      }))
  }
  const rows = await db
    .selectFrom('alias_history')
    .selectAll()
    .where('model', '=', model)
    .where('alias', '=', alias)
    .orderBy('sequence', 'desc')
    .limit(limit)
    .execute()
  return rows.map((row) => ({
    sequence: Number(row.sequence),
    alias: row.alias,
    version: row.version,
    previous: row.previous,
    reason: row.reason,
    at: row.at.toISOString(),
    actor: row.actor,
  }))
}

export async function listAnnotations(
  db: Db,
  model: string,
  version: number,
): Promise<Annotation[]> {
  const rows = await db
    .selectFrom('version_annotations')
    .selectAll()
    .where('model', '=', model)
    .where('version', '=', version)
    .orderBy('sequence')
    .execute()
  return rows.map((row) => ({
    id: row.annotation_id,
    kind: row.kind,
    text: row.text,
    data: (row.data as Record<string, unknown> | null) ?? null,
    annotatedAt: row.annotated_at.toISOString(),
    annotatedBy: row.annotated_by,
  }))
}

export async function findUpload(db: Db, uploadId: string): Promise<ModelUploadRow | undefined> {
  return db.selectFrom('model_uploads').selectAll().where('id', '=', uploadId).executeTakeFirst()
}

export function toUploadView(row: ModelUploadRow, position: number): UploadView {
  return {
    uploadId: row.id,
    model: row.model,
    status: row.status as UploadView['status'],
    ownerId: row.owner_id,
    size: Number(row.size),
    sha256: row.sha256,
    signatureRef: row.signature_ref as StoredObject,
    version: row.version,
    startedAt: row.started_at.toISOString(),
    position,
  }
}

// ── What the purge works through ──────────────────────────────────────────────────────────

export async function findPurgeableModels(db: Db, cutoff: Date, limit = 100): Promise<string[]> {
  const rows = await db
    .selectFrom('models')
    .select('name')
    .where('deleted_at', '<=', cutoff)
    .orderBy('deleted_at')
    .limit(limit)
    .execute()
  return rows.map((row) => row.name)
}

/** Versions deleted before `cutoff` of models that are not deleted themselves. */
export async function findPurgeableVersions(
  db: Db,
  cutoff: Date,
  limit = 100,
): Promise<Array<{ model: string; version: number }>> {
  return db
    .selectFrom('model_versions as v')
    .innerJoin('models as m', 'm.name', 'v.model')
    .select(['v.model as model', 'v.version as version'])
    .where('v.deleted_at', '<=', cutoff)
    .where('m.deleted_at', 'is', null)
    .orderBy('v.deleted_at')
    .limit(limit)
    .execute()
}

export async function findStaleUploads(
  db: Db,
  cutoff: Date,
  limit = 100,
): Promise<Array<{ uploadId: string; model: string }>> {
  const rows = await db
    .selectFrom('model_uploads')
    .select(['id', 'model'])
    .where('status', '=', 'STARTED')
    .where('started_at', '<', cutoff)
    .orderBy('started_at')
    .limit(limit)
    .execute()
  return rows.map((row) => ({ uploadId: row.id, model: row.model }))
}
