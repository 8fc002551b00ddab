import type { Kysely, Transaction } from 'kysely'
import {
  REGISTRY_EVENTS,
  type ModelCreatedData,
  type ModelDeletedData,
  type ModelVersionRegisteredData,
  type ReleaseChangedData,
} from '@argmax/contracts'
import type { RecordedEvent } from '@argmax/events'
import type { EventProjection } from '@argmax/projections'
import type { FeedbackDatabase } from './tables.ts'

type Db = Kysely<FeedbackDatabase> | Transaction<FeedbackDatabase>

export const REGISTRY_PROJECTION = 'feedback-registry'

/**
 * What feedback knows of the registry, from its events (event-carried state transfer): each
 * model's owner (users may only label and watch their own models) and release, each version's
 * task, signature object, test metrics and training dataset version (monitor defaults and drift
 * baselines). Upserts, so a redelivered event leaves the same rows.
 */
export const registryProjection: EventProjection<FeedbackDatabase> = {
  name: REGISTRY_PROJECTION,
  handles: Object.values(REGISTRY_EVENTS),
  apply: (trx, event) => applyRegistryEvent(trx, event),
}

export async function applyRegistryEvent(db: Db, event: RecordedEvent): Promise<void> {
  switch (event.type) {
    case REGISTRY_EVENTS.modelCreated: {
      const d = event.data as ModelCreatedData
      await db
        .insertInto('models')
        .values({
          name: d.model,
          owner_id: d.ownerId,
          task: d.task ?? null,
          created_at: d.createdAt,
          deleted_at: null,
          release: null,
          released_at: null,
        })
        // A model deleted and created again under its name starts over.
        .onConflict((oc) =>
          oc.column('name').doUpdateSet({
            owner_id: d.ownerId,
            task: d.task ?? null,
            created_at: d.createdAt,
            deleted_at: null,
            release: null,
            released_at: null,
          }),
        )
        .execute()
      return
    }
    case REGISTRY_EVENTS.modelDeleted: {
      const d = event.data as ModelDeletedData
      await db
        .updateTable('models')
        .set({ deleted_at: d.deletedAt })
        .where('name', '=', d.model)
        .execute()
      return
    }
    case REGISTRY_EVENTS.versionRegistered: {
      const d = event.data as ModelVersionRegisteredData
      const row = {
        owner_id: d.ownerId,
        task: d.task,
        signature: JSON.stringify(d.signature),
        metrics: JSON.stringify(d.metrics ?? {}),
        dataset_id: d.lineage?.datasetId ?? null,
        dataset_version_id: d.lineage?.datasetVersionId ?? null,
        registered_at: d.registeredAt,
      }
      await db
        .insertInto('model_versions')
        .values({ model: d.model, version: d.version, ...row })
        .onConflict((oc) => oc.columns(['model', 'version']).doUpdateSet(row))
        .execute()
      // A version registered before its ModelCreated was seen still names its owner.
      await db
        .insertInto('models')
        .values({
          name: d.model,
          owner_id: d.ownerId,
          task: d.task,
          created_at: d.registeredAt,
          deleted_at: null,
          release: null,
          released_at: null,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute()
      return
    }
    case REGISTRY_EVENTS.releaseChanged: {
      const d = event.data as ReleaseChangedData
      // "Since the release" counts from when the stable version became stable: canary steps
      // and shadow changes leave it alone.
      const stableChanged = (d.previous?.stable ?? null) !== (d.release?.stable ?? null)
      await db
        .updateTable('models')
        .set({
          release: d.release ? JSON.stringify(d.release) : null,
          ...(stableChanged ? { released_at: d.changedAt } : {}),
        })
        .where('name', '=', d.model)
        .execute()
      return
    }
    default:
      return
  }
}

export async function truncateRegistry(trx: Transaction<FeedbackDatabase>): Promise<void> {
  await trx.deleteFrom('model_versions').execute()
  await trx.deleteFrom('models').execute()
}
