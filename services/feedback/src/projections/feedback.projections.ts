import type { ProjectionRegistration, ServiceProjections } from '@argmax/projections'
import { feedbackMigrations } from '../migrations/index.ts'
import { FEEDBACK_STREAM_NAMES, type FeedbackStreamNames } from '../streams.ts'
import { datasetLinksProjection, truncateDatasetLinks } from './dataset-links.projection.ts'
import { feedbackProjection, truncateFeedback } from './feedback.projection.ts'
import { registryProjection, truncateRegistry } from './registry.projection.ts'
import type { FeedbackDatabase } from './tables.ts'

export type FeedbackProjectionName = 'registry' | 'feedback' | 'datasetLinks'

/** The feedback service's read models, by name (the name is also their /readyz check). */
export function feedbackProjectionsOf(
  names: FeedbackStreamNames,
): Record<FeedbackProjectionName, ProjectionRegistration<FeedbackDatabase>> {
  return {
    registry: {
      projection: registryProjection,
      stream: names.registry.stream,
      truncate: truncateRegistry,
    },
    feedback: {
      projection: feedbackProjection,
      stream: names.feedback.stream,
      truncate: truncateFeedback,
    },
    datasetLinks: {
      projection: datasetLinksProjection,
      stream: names.dataset.stream,
      truncate: truncateDatasetLinks,
    },
  }
}

/** The same projections, for tools that rebuild them (`argmax projections`). */
export const feedbackProjections: ServiceProjections<FeedbackDatabase> = {
  service: 'feedback',
  schema: 'feedback',
  migrations: feedbackMigrations,
  projections: Object.values(feedbackProjectionsOf(FEEDBACK_STREAM_NAMES)),
}
