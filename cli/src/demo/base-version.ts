import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ApiError, type VersionView } from '@argmax/registry-service/client'
import { uploadFile } from '../datasets/upload.ts'
import type { DemoApis } from './apis.ts'
import { loadFilms, MODEL, TARGET } from './world.ts'
import { poll } from './poll.ts'

export interface BaseVersion {
  datasetId: string
  datasetVersionId: string
  /** v1: the movies model's version trained on the base dataset version. */
  version: number
  /** The seed v1 was trained with: the pipeline trains with it too (see the pipeline's config). */
  seed: number
  testMetrics: Record<string, number>
}

type Apis = Pick<DemoApis, 'datasets' | 'training' | 'registry'>

/**
 * v1 of the movies model as scripts/demo.sh leaves it: the movies dataset uploaded, an
 * XGBoost regressor of IMDB Rating trained on it (seed 1) and registered. What exists is
 * reused; what is missing is made the way the main demo makes it.
 */
export async function ensureBaseVersion(
  apis: Apis,
  workDir: string,
  log: (line: string) => void,
): Promise<BaseVersion> {
  const listed = await apis.datasets.listDatasets({ query: { name: MODEL } })
  let datasetId = listed.items.find((d) => d.name === MODEL)?.id
  if (!datasetId) {
    datasetId = (
      await apis.datasets.createDataset({
        body: {
          name: MODEL,
          description:
            'IMDB and Rotten Tomatoes ratings, budgets and grosses of 3,201 films (vega-datasets)',
          tags: ['demo'],
        },
      })
    ).id
    log(`created the ${MODEL} dataset ${datasetId}`)
  }
  const validated = async () =>
    (await apis.datasets.listVersions({ params: { datasetId } })).items.find(
      (v) => v.status === 'VALIDATED',
    )
  let base = await validated()
  if (!base) {
    mkdirSync(workDir, { recursive: true })
    const file = join(workDir, 'movies.jsonl')
    writeFileSync(
      file,
      loadFilms()
        .map((film) => JSON.stringify(film))
        .join('\n') + '\n',
    )
    log(`uploading the ${MODEL} dataset (3,201 films)`)
    await uploadFile({ api: apis.datasets, datasetId, filePath: file })
    base = await poll('the movies dataset version to be validated', 300, validated)
  }
  const datasetVersionId = base.id

  const v1Of = async (): Promise<VersionView | undefined> => {
    try {
      const versions = await apis.registry.listVersions({ params: { name: MODEL } })
      return versions.items
        .filter(
          (v) =>
            v.status === 'active' &&
            v.lineage.datasetVersionId === datasetVersionId &&
            v.target === TARGET,
        )
        .sort((a, b) => a.version - b.version)[0]
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined
      throw error
    }
  }
  let v1 = await v1Of()
  if (!v1) {
    const runs = await apis.training.listRuns({
      query: { model: MODEL, datasetVersionId, limit: 200 },
    })
    let runId = runs.items.find(
      (r) => ['PENDING', 'TRAINING', 'READY'].includes(r.status) && r.target === TARGET,
    )?.id
    if (!runId) {
      runId = (
        await apis.training.createRun({
          body: { model: MODEL, datasetVersionId, target: TARGET, trainer: 'xgboost', seed: 1 },
        })
      ).id
      log(`training v1: run ${runId}, an XGBoost regressor of ${TARGET}`)
    }
    const id = runId
    await poll('the v1 training run to be READY', 900, async () => {
      const run = await apis.training.getRun({ params: { runId: id } })
      if (['FAILED', 'CANCELLED', 'DISCARDED'].includes(run.status)) {
        throw new Error(`the v1 training run ${id} ended ${run.status}`)
      }
      return run.status === 'READY' ? run : undefined
    })
    v1 = await poll('the registry to register v1', 120, v1Of)
  }
  return {
    datasetId,
    datasetVersionId,
    version: v1.version,
    seed: v1.seed ?? 1,
    testMetrics: v1.metrics,
  }
}
