import type { ProjectionRegistration, ServiceProjections } from '@argmax/projections'
import { trainingMigrations } from '../migrations/index.ts'
import {
  DATASET_STREAM_NAMES,
  TRAINING_STREAM_NAMES,
  heartbeatStream,
  pipelineSubjects,
  quotaSubjects,
  runSubjects,
  type DatasetStreamNames,
  type ForeignStreamNames,
  type TrainingStreamNames,
} from '../streams.ts'
import {
  datasetVersionsProjection,
  truncateDatasetVersions,
} from './dataset-versions.projection.ts'
import { metricsProjection, truncateMetrics } from './heartbeats.projection.ts'
import { pipelinesProjection, truncatePipelines } from './pipelines.projection.ts'
import { quotasProjection, truncateQuotas } from './quotas.projection.ts'
import {
  registryVersionsProjection,
  truncateRegistryVersions,
} from './registry-versions.projection.ts'
import { runsProjection, truncateRuns } from './runs.projection.ts'
import type { TrainingDatabase } from './tables.ts'

export type TrainingProjectionName =
  'runs' | 'quotas' | 'metrics' | 'datasetVersions' | 'pipelines' | 'registryVersions'

/** The REGISTRY stream retrain pipelines project versions and releases from. */
export const REGISTRY_STREAM_NAMES: ForeignStreamNames = { stream: 'REGISTRY', root: 'registry' }

/** The training service's read models, by name (the name is also their /readyz check). */
export function trainingProjectionsOf(
  names: TrainingStreamNames,
  datasetNames: DatasetStreamNames,
  registryNames: ForeignStreamNames = REGISTRY_STREAM_NAMES,
): Record<TrainingProjectionName, ProjectionRegistration<TrainingDatabase>> {
  return {
    runs: {
      projection: runsProjection(runSubjects(names)),
      stream: names.stream,
      truncate: truncateRuns,
    },
    quotas: {
      projection: quotasProjection(quotaSubjects(names)),
      stream: names.stream,
      truncate: truncateQuotas,
    },
    metrics: {
      projection: metricsProjection,
      stream: heartbeatStream(names),
      truncate: truncateMetrics,
    },
    pipelines: {
      projection: pipelinesProjection(pipelineSubjects(names)),
      stream: names.stream,
      truncate: truncatePipelines,
    },
    datasetVersions: {
      projection: datasetVersionsProjection(datasetNames.root),
      stream: datasetNames.stream,
      truncate: truncateDatasetVersions,
    },
    registryVersions: {
      projection: registryVersionsProjection(registryNames.root),
      stream: registryNames.stream,
      truncate: truncateRegistryVersions,
    },
  }
}

/** The same projections, for tools that rebuild them (`argmax projections`). */
export const trainingProjections: ServiceProjections<TrainingDatabase> = {
  service: 'training',
  schema: 'training',
  migrations: trainingMigrations,
  projections: Object.values(trainingProjectionsOf(TRAINING_STREAM_NAMES, DATASET_STREAM_NAMES)),
}
