import { loadDatasetConfig, type DatasetConfig } from './config.ts'
import type { StreamNames } from './streams.ts'

/**
 * The dataset service's configuration for a test that starts the real service in its process:
 * read through the service's own settings schema, so tests get the defaults production gets and
 * every context's harness (dataset, training, feedback) builds it one way. Before this, each
 * harness spelled the whole object out by hand, and one copy drifted from the schema.
 */
export interface DatasetTestSetup {
  /** The stack's ARGMAX_* variables (`endpointsToEnv(stackEndpoints())`). */
  stackEnv: Record<string, string>
  /** HS256 secret shared with the test's tokens. */
  secret: string
  bucket: string
  schema: string
  names: StreamNames
  /** Where feedback datasets to register come from. */
  feedback: StreamNames
  /** Settings a test needs different from the defaults, e.g. a short validator ack wait. */
  dataset?: Partial<DatasetConfig['dataset']>
}

export function datasetTestConfig(setup: DatasetTestSetup): DatasetConfig {
  const config = loadDatasetConfig({
    ...setup.stackEnv,
    ARGMAX_AUTH_MODE: 'hs256',
    ARGMAX_JWT_SECRET: setup.secret,
    ARGMAX_HTTP_HOST: '127.0.0.1',
    ARGMAX_HTTP_PORT: '0',
    ARGMAX_DATASET_BUCKET: setup.bucket,
    ARGMAX_DATASET_SCHEMA: setup.schema,
    ARGMAX_DATASET_STREAM: setup.names.stream,
    ARGMAX_DATASET_SUBJECT_ROOT: setup.names.root,
    ARGMAX_FEEDBACK_STREAM: setup.feedback.stream,
    ARGMAX_FEEDBACK_SUBJECT_ROOT: setup.feedback.root,
    // No purge loop: tests that purge call it themselves, with their own clock.
    ARGMAX_DATASET_PURGE_INTERVAL_SECONDS: '0',
  })
  return { ...config, dataset: { ...config.dataset, ...setup.dataset } }
}
