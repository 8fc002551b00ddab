import { createDatasetClient, type DatasetClient } from '@argmax/dataset-service/client'
import { createFeedbackClient, type FeedbackClient } from '@argmax/feedback-service/client'
import { createRegistryClient, type RegistryClient } from '@argmax/registry-service/client'
import {
  createTrainingClient,
  type ApiClientOptions,
  type TrainingClient,
} from '@argmax/training-service/client'

/** The services' clients the demo drives, all through the edge with one token. */
export interface DemoApis {
  datasets: DatasetClient
  training: TrainingClient
  registry: RegistryClient
  feedback: FeedbackClient
}

export function createDemoApis(client: ApiClientOptions): DemoApis {
  return {
    datasets: createDatasetClient(client),
    training: createTrainingClient(client),
    registry: createRegistryClient(client),
    feedback: createFeedbackClient(client),
  }
}
