import { sql, type Kysely, type Transaction } from 'kysely'
import type { RecordedEvent } from '@argmax/events'
import type { EventProjection } from '@argmax/projections'
import {
  MODEL_EVENT_TYPES,
  RELEASE_EVENT_TYPES,
  UPLOAD_EVENT_TYPES,
  type ModelEvent,
  type ReleaseEvent,
  type UploadEvent,
} from '../domain/index.ts'
import { CATALOG_TABLES, type RegistryDatabase } from './database.ts'

type Db = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>

export const CATALOG_PROJECTION = 'registry-catalog'
export const CATALOG_EVENT_TYPES: string[] = [
  ...MODEL_EVENT_TYPES,
  ...RELEASE_EVENT_TYPES,
  ...UPLOAD_EVENT_TYPES,
]

const json = (value: unknown) => JSON.stringify(value)

/**
 * The read model behind every query of the registry API: models, versions with their
 * annotations, aliases and their history, releases and their history, refused runs and
 * uploads. Inserts ignore a row that exists and updates are absolute, so applying an event
 * twice leaves the same rows; a rebuild from sequence 1 gives the same tables.
 */
export async function applyCatalogEvent(db: Db, recorded: RecordedEvent): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as
    ModelEvent | ReleaseEvent | UploadEvent
  const { actor, sequence } = recorded
  switch (event.type) {
    case 'ModelCreated': {
      const d = event.data
      await db
        .insertInto('models')
        .values({
          name: d.model,
          owner_id: d.ownerId,
          task: d.task ?? null,
          description: d.description,
          tags: d.tags,
          origin: d.origin,
          created_at: d.createdAt,
          updated_at: d.createdAt,
          deleted_at: null,
          version_count: 0,
          latest_version: null,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute()
      return
    }
    case 'ModelUpdated': {
      const { model, description, tags, task, updatedAt } = event.data
      await db
        .updateTable('models')
        .set({
          updated_at: updatedAt,
          ...(description !== undefined ? { description } : {}),
          ...(tags !== undefined ? { tags } : {}),
          ...(task !== undefined ? { task } : {}),
        })
        .where('name', '=', model)
        .execute()
      return
    }
    case 'ModelDeleted':
      await db
        .updateTable('models')
        .set({ deleted_at: event.data.deletedAt, updated_at: event.data.deletedAt })
        .where('name', '=', event.data.model)
        .execute()
      return
    case 'ModelRestored':
      await db
        .updateTable('models')
        .set({ deleted_at: null, updated_at: event.data.restoredAt })
        .where('name', '=', event.data.model)
        .execute()
      return
    case 'ModelPurged': {
      // The rows go with the artifacts; the event log (and the release history) keep the story.
      const model = event.data.model
      for (const table of [
        'version_annotations',
        'model_versions',
        'model_aliases',
        'alias_history',
        'registration_refusals',
        'model_uploads',
      ] as const) {
        await db.deleteFrom(table).where('model', '=', model).execute()
      }
      await db.deleteFrom('models').where('name', '=', model).execute()
      return
    }
    case 'ModelVersionRegistered': {
      const d = event.data
      const inserted = await db
        .insertInto('model_versions')
        .values({
          model: d.model,
          version: d.version,
          owner_id: d.ownerId,
          task: d.task,
          artifact: json(d.artifact),
          signature_ref: json(d.signature),
          artifacts: json(d.artifacts),
          metrics: json(d.metrics),
          params: d.params !== undefined ? json(d.params) : null,
          params_omitted: d.paramsOmitted ?? false,
          trainer: d.trainer !== undefined ? json(d.trainer) : null,
          libraries: d.libraries !== undefined ? json(d.libraries) : null,
          target: d.target ?? null,
          seed: d.seed ?? null,
          description: d.description ?? null,
          source: json(d.source),
          lineage: json(d.lineage),
          registered_at: d.registeredAt,
          registered_by: actor,
          deleted_at: null,
        })
        .onConflict((oc) => oc.columns(['model', 'version']).doNothing())
        .executeTakeFirst()
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return
      await db
        .updateTable('models')
        .set((eb) => ({
          version_count: eb('version_count', '+', 1),
          latest_version: sql<number>`greatest(coalesce(latest_version, 0), ${d.version})`,
          updated_at: d.registeredAt,
        }))
        .where('name', '=', d.model)
        .execute()
      return
    }
    case 'ModelVersionRegistrationRefused': {
      const d = event.data
      await db
        .insertInto('registration_refusals')
        .values({
          model: d.model,
          run_id: d.runId,
          attempt: d.attempt,
          owner_id: d.ownerId,
          reason: d.reason,
          message: d.message,
          refused_at: d.refusedAt,
        })
        .onConflict((oc) => oc.columns(['model', 'run_id']).doNothing())
        .execute()
      return
    }
    case 'ModelVersionAnnotated': {
      const d = event.data
      await db
        .insertInto('version_annotations')
        .values({
          model: d.model,
          version: d.version,
          annotation_id: d.annotationId,
          kind: d.kind,
          text: d.text,
          data: d.data !== undefined ? json(d.data) : null,
          annotated_at: d.annotatedAt,
          annotated_by: actor,
          sequence,
        })
        .onConflict((oc) => oc.columns(['model', 'version', 'annotation_id']).doNothing())
        .execute()
      return
    }
    case 'ModelVersionDeleted':
      await db
        .updateTable('model_versions')
        .set({ deleted_at: event.data.deletedAt })
        .where('model', '=', event.data.model)
        .where('version', '=', event.data.version)
        .execute()
      return
    case 'ModelVersionRestored':
      await db
        .updateTable('model_versions')
        .set({ deleted_at: null })
        .where('model', '=', event.data.model)
        .where('version', '=', event.data.version)
        .execute()
      return
    case 'ModelVersionPurged': {
      const { model, version } = event.data
      await db
        .deleteFrom('version_annotations')
        .where('model', '=', model)
        .where('version', '=', version)
        .execute()
      const deleted = await db
        .deleteFrom('model_versions')
        .where('model', '=', model)
        .where('version', '=', version)
        .executeTakeFirst()
      if (Number(deleted.numDeletedRows) > 0) {
        await db
          .updateTable('models')
          .set((eb) => ({ version_count: eb('version_count', '-', 1) }))
          .where('name', '=', model)
          .execute()
      }
      return
    }
    case 'ModelAliasSet': {
      const d = event.data
      await db
        .insertInto('model_aliases')
        .values({
          model: d.model,
          alias: d.alias,
          version: d.version,
          updated_at: d.setAt,
          updated_by: actor,
        })
        .onConflict((oc) =>
          oc.columns(['model', 'alias']).doUpdateSet({
            version: d.version,
            updated_at: d.setAt,
            updated_by: actor,
          }),
        )
        .execute()
      await aliasHistory(db, sequence, {
        model: d.model,
        alias: d.alias,
        version: d.version,
        previous: d.previous,
        reason: 'set',
        at: d.setAt,
        actor,
      })
      return
    }
    case 'ModelAliasRemoved': {
      const d = event.data
      await db
        .deleteFrom('model_aliases')
        .where('model', '=', d.model)
        .where('alias', '=', d.alias)
        .execute()
      await aliasHistory(db, sequence, {
        model: d.model,
        alias: d.alias,
        version: null,
        previous: d.previous,
        reason: d.reason === 'user' ? 'removed' : 'version_deleted',
        at: d.removedAt,
        actor,
      })
      return
    }
    case 'ReleaseChanged': {
      const d = event.data
      const kind = d.kind ?? 'set'
      const changedBy = d.changedBy ?? actor
      await db
        .insertInto('releases')
        .values({
          model: d.model,
          release: d.release ? json(d.release) : null,
          sequence,
          kind,
          reason: d.reason,
          changed_at: d.changedAt,
          changed_by: changedBy,
        })
        .onConflict((oc) =>
          oc.column('model').doUpdateSet({
            release: d.release ? json(d.release) : null,
            sequence,
            kind,
            reason: d.reason,
            changed_at: d.changedAt,
            changed_by: changedBy,
          }),
        )
        .execute()
      await db
        .insertInto('release_history')
        .values({
          sequence,
          model: d.model,
          release: d.release ? json(d.release) : null,
          previous: d.previous ? json(d.previous) : null,
          kind,
          reason: d.reason,
          breaking: d.breaking ?? false,
          changed_at: d.changedAt,
          changed_by: changedBy,
        })
        .onConflict((oc) => oc.column('sequence').doNothing())
        .execute()
      return
    }
    case 'ModelUploadStarted': {
      const d = event.data
      await db
        .insertInto('model_uploads')
        .values({
          id: d.uploadId,
          model: d.model,
          owner_id: d.ownerId,
          status: 'STARTED',
          bucket: d.bucket,
          object_key: d.objectKey,
          size: d.size,
          sha256: d.sha256 ?? null,
          signature_ref: json(d.signature),
          task: d.task,
          version: null,
          started_at: d.startedAt,
          finished_at: null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute()
      return
    }
    case 'ModelUploadCompleted':
      await db
        .updateTable('model_uploads')
        .set({
          status: 'COMPLETED',
          version: event.data.version,
          finished_at: event.data.completedAt,
        })
        .where('id', '=', event.data.uploadId)
        .execute()
      return
    case 'ModelUploadAborted':
      await db
        .updateTable('model_uploads')
        .set({ status: 'ABORTED', finished_at: event.data.abortedAt })
        .where('id', '=', event.data.uploadId)
        .execute()
      return
    default: {
      const unknownEvent: never = event
      // Types this projection does not know only move the checkpoint.
      void unknownEvent
      return
    }
  }
}

function aliasHistory(
  db: Db,
  sequence: number,
  row: {
    model: string
    alias: string
    version: number | null
    previous: number | null
    reason: string
    at: string
    actor: string
  },
) {
  return db
    .insertInto('alias_history')
    .values({ sequence, ...row })
    .onConflict((oc) => oc.column('sequence').doNothing())
    .execute()
}

/** Empties the projection's tables, for a rebuild from sequence 1. */
export async function truncateCatalog(db: Db): Promise<void> {
  await sql`truncate table ${sql.join(CATALOG_TABLES.map((t) => sql.table(t)))}`.execute(db)
}

/** The projection as the runner of @argmax/projections takes it. */
export const catalogProjection: EventProjection<RegistryDatabase> = {
  name: CATALOG_PROJECTION,
  handles: CATALOG_EVENT_TYPES,
  apply: applyCatalogEvent,
}
