import type { StoredObject } from '@argmax/contracts'
import type { Kysely } from 'kysely'
import type { TrainingDatabase } from './tables.ts'

export interface ServingVersionRow {
  version: number
  task: string
  artifact: StoredObject
  signature: StoredObject
  metrics: Record<string, number>
  /** What it was trained on: the first dataset version and the seed (null: an upload). */
  trainedOn: { datasetVersionId: string; seed: number } | null
}

/**
 * The model's stable version as the registry's events told it (null: nothing serves, or the
 * stable version's registration is not projected yet — its event comes first on its stream).
 */
export async function servingVersionOf(
  db: Kysely<TrainingDatabase>,
  model: string,
): Promise<ServingVersionRow | null> {
  const row = await db
    .selectFrom('registry_releases as r')
    .innerJoin('registry_versions as v', (join) =>
      join.onRef('v.model', '=', 'r.model').onRef('v.version', '=', 'r.stable'),
    )
    .select([
      'v.version',
      'v.task',
      'v.artifact',
      'v.signature',
      'v.metrics',
      'v.dataset_version_id',
      'v.seed',
    ])
    .where('r.model', '=', model)
    .executeTakeFirst()
  if (!row) return null
  const { dataset_version_id: datasetVersionId, seed, ...rest } = row
  return {
    ...rest,
    trainedOn:
      datasetVersionId !== null && seed !== null ? { datasetVersionId, seed: Number(seed) } : null,
  }
}

/**
 * The version the registry registered from a training run (it registers every successful run
 * once), as its `ModelVersionRegistered` told it; null until that event is projected.
 */
export async function versionOfRun(
  db: Kysely<TrainingDatabase>,
  model: string,
  runId: string,
): Promise<number | null> {
  const row = await db
    .selectFrom('registry_versions')
    .select('version')
    .where('model', '=', model)
    .where('run_id', '=', runId)
    .executeTakeFirst()
  return row?.version ?? null
}
