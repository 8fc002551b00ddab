import { fileURLToPath } from 'node:url'
import { describeServiceShell } from '@argmax/service/testing'
import { freshBucket, stackEndpoints, uniqueName } from '@argmax/testkit'
import { loadDatasetConfig } from '../src/config.ts'
import { startDatasetService } from '../src/service.ts'

// A stream of its own: the real DATASET stream belongs to the CLI's rebuild test.
const stream = uniqueName('DATASET')
const root = uniqueName('ds')

describeServiceShell({
  service: 'dataset',
  start: startDatasetService,
  loadConfig: loadDatasetConfig,
  async env() {
    const { s3 } = stackEndpoints()
    const { bucket } = await freshBucket('datasets')
    return {
      ARGMAX_S3_ENDPOINT: s3.endpoint,
      ARGMAX_S3_REGION: s3.region,
      ARGMAX_S3_ACCESS_KEY_ID: s3.accessKeyId,
      ARGMAX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
      ARGMAX_DATASET_BUCKET: bucket,
      ARGMAX_DATASET_STREAM: stream,
      ARGMAX_DATASET_SUBJECT_ROOT: root,
      ARGMAX_DATASET_SCHEMA: uniqueName('dataset').toLowerCase(),
    }
  },
  requiredSettings: ['ARGMAX_S3_ACCESS_KEY_ID', 'ARGMAX_S3_SECRET_ACCESS_KEY'],
  stream,
  subjects: [`${root}.>`],
  streamConfig: { duplicate_window: 2 * 60 * 1_000_000_000 },
  readinessChecks: ['s3', 'catalog'],
  apiPath: '/v1/datasets',
  authorizedStatus: 200,
  metrics: ['argmax_projection_position{', 'argmax_projection_failing{'],
  mainFile: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
})
