import { sql, type Kysely, type Transaction } from 'kysely'
import {
  REGISTRY_EVENTS,
  type ModelVersionRegisteredData,
  type ReleaseChangedData,
} from '@argmax/contracts'
import type { RecordedEvent } from '@argmax/events'
import type { EventProjection } from '@argmax/projections'
import type { TrainingDatabase } from './tables.ts'

type Db = Kysely<TrainingDatabase> | Transaction<TrainingDatabase>

// `.2`: replays REGISTRY from its start once, to fill the lineage columns added after it ran.
export const REGISTRY_VERSIONS_PROJECTION = 'training-registry-versions.2'

// A deleted model's release becomes null by its own ReleaseChanged; version numbers are never
// reused (a restored model keeps its versions), so versions are never removed here.
const READ = [REGISTRY_EVENTS.versionRegistered, REGISTRY_EVENTS.releaseChanged] as const

/**
 * What retrain pipelines know of the registry, from its events (stream REGISTRY): each version's
 * artifact, signature, recorded metrics and what it was trained on, and each model's stable
 * version — so a pipeline
 * scores the serving version without calling the registry or reading its tables. Upserts: a
 * redelivered event leaves the same rows.
 */
export async function applyRegistryEvent(db: Db, event: RecordedEvent): Promise<void> {
  switch (event.type) {
    case REGISTRY_EVENTS.versionRegistered: {
      const d = event.data as ModelVersionRegisteredData
      const row = {
        task: d.task,
        artifact: JSON.stringify(d.artifact),
        signature: JSON.stringify(d.signature),
        metrics: JSON.stringify(d.metrics ?? {}),
        run_id: d.source.kind === 'training' ? d.source.runId : null,
        dataset_version_id: d.lineage.datasetVersionId ?? null,
        seed: d.seed ?? null,
        registered_at: d.registeredAt,
      }
      await db
        .insertInto('registry_versions')
        .values({ model: d.model, version: d.version, ...row })
        .onConflict((oc) => oc.columns(['model', 'version']).doUpdateSet(row))
        .execute()
      return
    }
    case REGISTRY_EVENTS.releaseChanged: {
      const d = event.data as ReleaseChangedData
      const row = { stable: d.release?.stable ?? null, changed_at: d.changedAt }
      await db
        .insertInto('registry_releases')
        .values({ model: d.model, ...row })
        .onConflict((oc) => oc.column('model').doUpdateSet(row))
        .execute()
      return
    }
    default:
      return
  }
}

export async function truncateRegistryVersions(db: Db): Promise<void> {
  await sql`truncate table registry_versions, registry_releases`.execute(db)
}

export function registryVersionsProjection(root: string): EventProjection<TrainingDatabase> {
  return {
    name: REGISTRY_VERSIONS_PROJECTION,
    handles: READ,
    subjects: [`${root}.model.>`, `${root}.release.>`],
    apply: applyRegistryEvent,
  }
}
