import { startServiceShell, type ServiceStartOptions } from '@argmax/service'
import { feedbackMigrations } from './migrations/index.ts'
import { FEEDBACK_STREAM, feedbackStreams } from './streams.ts'

/**
 * The feedback service as it stands: its stream, its schema and the HTTP shell. Its domain
 * arrives with its issue; until then it serves only the operational endpoints.
 */
export function startFeedbackService(options: ServiceStartOptions) {
  return startServiceShell({
    ...options,
    service: 'feedback',
    description: 'Ground truth, live quality monitors, retrain triggers and feedback datasets',
    streams: feedbackStreams,
    readinessStream: FEEDBACK_STREAM,
    migrations: feedbackMigrations,
  })
}
