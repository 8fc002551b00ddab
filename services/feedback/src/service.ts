import {
  startServiceShell,
  type ServiceDefinition,
  type ServiceStartOptions,
} from '@argmax/service'
import { feedbackMigrations } from './migrations/index.ts'
import { FEEDBACK_STREAM, feedbackStreams } from './streams.ts'

/**
 * The feedback service as declared to the shell: its stream, its schema and the HTTP shell. Its
 * domain arrives with its issue and fills the other slots of the definition (projections,
 * dependencies, api, workers — see services/dataset/src/service.ts); until then it serves only
 * the operational endpoints.
 */
export const feedbackService: ServiceDefinition<unknown> = {
  service: 'feedback',
  description: 'Ground truth, live quality monitors, retrain triggers and feedback datasets',
  streams: feedbackStreams,
  readinessStream: FEEDBACK_STREAM,
  migrations: feedbackMigrations,
}

export function startFeedbackService(options: ServiceStartOptions) {
  return startServiceShell(feedbackService, options)
}
