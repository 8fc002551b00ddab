import { startServiceShell, type ServiceStartOptions } from '@argmax/service'
import { trainingMigrations } from './migrations/index.ts'
import { TRAINING_STREAM, trainingStreams } from './streams.ts'

/**
 * The training service as it stands: its stream, its schema and the HTTP shell. Its domain
 * arrives with its issue; until then it serves only the operational endpoints.
 */
export function startTrainingService(options: ServiceStartOptions) {
  return startServiceShell({
    ...options,
    service: 'training',
    description: 'Training runs, quotas, work queues, runners and retrain pipelines',
    streams: trainingStreams,
    readinessStream: TRAINING_STREAM,
    migrations: trainingMigrations,
  })
}
