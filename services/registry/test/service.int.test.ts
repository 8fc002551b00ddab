import { fileURLToPath } from 'node:url'
import { describeServiceShell } from '@argmax/service/testing'
import { freshBucket, stackEndpoints, uniqueName } from '@argmax/testkit'
import { loadRegistryConfig } from '../src/config.ts'
import { startRegistryService } from '../src/service.ts'

// A stream of its own: the real REGISTRY stream belongs to the whole-stack tests.
const stream = uniqueName('REGISTRY')
const root = uniqueName('rg')

describeServiceShell({
  service: 'registry',
  start: startRegistryService,
  loadConfig: loadRegistryConfig,
  async env() {
    const { s3 } = stackEndpoints()
    const { bucket } = await freshBucket('models')
    return {
      ARGMAX_S3_ENDPOINT: s3.endpoint,
      ARGMAX_S3_REGION: s3.region,
      ARGMAX_S3_ACCESS_KEY_ID: s3.accessKeyId,
      ARGMAX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
      ARGMAX_REGISTRY_BUCKET: bucket,
      ARGMAX_REGISTRY_STREAM: stream,
      ARGMAX_REGISTRY_SUBJECT_ROOT: root,
      ARGMAX_REGISTRY_SCHEMA: uniqueName('registry').toLowerCase(),
      // Training's stream need not exist: the follower waits for it.
      ARGMAX_REGISTRY_TRAINING_STREAM: uniqueName('TRAINING'),
      ARGMAX_REGISTRY_TRAINING_SUBJECT_ROOT: uniqueName('tr'),
    }
  },
  requiredSettings: ['ARGMAX_S3_ACCESS_KEY_ID', 'ARGMAX_S3_SECRET_ACCESS_KEY'],
  stream,
  subjects: [`${root}.>`],
  streamConfig: { duplicate_window: 2 * 60 * 1_000_000_000 },
  readinessChecks: ['s3', 'catalog'],
  apiPath: '/v1/models',
  authorizedStatus: 200,
  metrics: ['argmax_projection_position{', 'argmax_projection_failing{'],
  mainFile: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
})
