import {
  startServiceShell,
  type ServiceDefinition,
  type ServiceStartOptions,
} from '@argmax/service'
import { trainingMigrations } from './migrations/index.ts'
import { TRAINING_STREAM, trainingStreams } from './streams.ts'

/**
 * The training service as declared to the shell: its stream, its schema and the HTTP shell. Its
 * domain arrives with its issue and fills the other slots of the definition (projections,
 * dependencies, api, workers — see services/dataset/src/service.ts); until then it serves only
 * the operational endpoints.
 */
export const trainingService: ServiceDefinition<unknown> = {
  service: 'training',
  description: 'Training runs, quotas, work queues, runners and retrain pipelines',
  streams: trainingStreams,
  readinessStream: TRAINING_STREAM,
  migrations: trainingMigrations,
}

export function startTrainingService(options: ServiceStartOptions) {
  return startServiceShell(trainingService, options)
}
