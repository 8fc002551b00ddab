import { fileURLToPath } from 'node:url'
import { generateDevSecret } from '@argmax/auth'
import { describeServiceShell } from '@argmax/service/testing'
import { freshBucket, stackEndpoints, uniqueName } from '@argmax/testkit'
import { loadInferenceConfig } from '../src/config.ts'
import { startInferenceService } from '../src/service.ts'

// Streams of their own: tests run side by side.
const logStream = uniqueName('INFERENCE_LOG')
const batchStream = uniqueName('INFERENCE')
const prefix = uniqueName('inf')
const schema = uniqueName('inference').toLowerCase()
const registry = { stream: uniqueName('REGISTRY'), root: uniqueName('reg') }
const predictionIdSecret = generateDevSecret()

describeServiceShell({
  service: 'inference',
  start: startInferenceService,
  loadConfig: loadInferenceConfig,
  async env() {
    const endpoints = stackEndpoints()
    const { bucket } = await freshBucket('analytics')
    return {
      ARGMAX_S3_ENDPOINT: endpoints.s3.endpoint,
      ARGMAX_S3_REGION: endpoints.s3.region,
      ARGMAX_S3_ACCESS_KEY_ID: endpoints.s3.accessKeyId,
      ARGMAX_S3_SECRET_ACCESS_KEY: endpoints.s3.secretAccessKey,
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
      ARGMAX_CLICKHOUSE_URL: endpoints.clickhouseUrl,
      ARGMAX_CLICKHOUSE_USER: endpoints.clickhouseUser,
      ARGMAX_CLICKHOUSE_PASSWORD: endpoints.clickhousePassword,
      ARGMAX_INFERENCE_SINK: 'off',
      ARGMAX_INFERENCE_GRPC_PORT: '0',
      ARGMAX_PREDICTION_ID_SECRET: predictionIdSecret,
      ARGMAX_ANALYTICS_BUCKET: bucket,
      ARGMAX_INFERENCE_LOG_STREAM: logStream,
      ARGMAX_INFERENCE_LOG_SUBJECT_PREFIX: `${prefix}.log`,
      ARGMAX_INFERENCE_STREAM: batchStream,
      ARGMAX_INFERENCE_SUBJECT_PREFIX: `${prefix}.batch`,
      ARGMAX_REGISTRY_STREAM: registry.stream,
      ARGMAX_REGISTRY_SUBJECT_ROOT: registry.root,
      ARGMAX_INFERENCE_SCHEMA: schema,
    }
  },
  requiredSettings: [
    'ARGMAX_S3_ACCESS_KEY_ID',
    'ARGMAX_CLICKHOUSE_URL',
    'ARGMAX_INFERENCE_GRPC_PORT',
    'ARGMAX_PREDICTION_ID_SECRET',
  ],
  stream: logStream,
  subjects: [`${prefix}.log.>`],
  // A week, in the nanoseconds JetStream keeps.
  streamConfig: { max_age: 7 * 24 * 3_600 * 1e9 },
  readinessChecks: ['s3', 'registry'],
  apiPath: '/v2/models/m/infer',
  metrics: [],
  mainFile: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
})
