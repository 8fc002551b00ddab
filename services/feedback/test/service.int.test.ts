import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { describeServiceShell } from '@argmax/service/testing'
import { ensureStreams } from '@argmax/events'
import {
  connectNats,
  freshBucket,
  freshClickhouseDatabase,
  stackEndpoints,
  uniqueName,
} from '@argmax/testkit'
import { loadFeedbackConfig } from '../src/config.ts'
import { startFeedbackService } from '../src/service.ts'

// Streams, schema, bucket and ClickHouse database of their own: tests run side by side.
const feedback = { stream: uniqueName('FEEDBACK'), root: uniqueName('fb') }

describeServiceShell({
  service: 'feedback',
  start: startFeedbackService,
  loadConfig: loadFeedbackConfig,
  async env() {
    const endpoints = stackEndpoints()
    const { bucket } = await freshBucket('analytics')
    const { database } = await freshClickhouseDatabase('feedback')
    // The streams of the contexts feedback follows, which their services would have made.
    const followed = Object.fromEntries(
      ['REGISTRY', 'DATASET', 'TRAINING'].map((name) => [
        name,
        { stream: uniqueName(name), root: uniqueName(name.toLowerCase()) },
      ]),
    ) as Record<'REGISTRY' | 'DATASET' | 'TRAINING', { stream: string; root: string }>
    await ensureStreams(
      await (await connectNats()).jetstreamManager(),
      Object.values(followed).map(({ stream, root }) => ({
        name: stream,
        subjects: [`${root}.>`],
        retention: 'limits' as const,
      })),
    )
    return {
      ARGMAX_S3_ENDPOINT: endpoints.s3.endpoint,
      ARGMAX_S3_REGION: endpoints.s3.region,
      ARGMAX_S3_ACCESS_KEY_ID: endpoints.s3.accessKeyId,
      ARGMAX_S3_SECRET_ACCESS_KEY: endpoints.s3.secretAccessKey,
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
      ARGMAX_CLICKHOUSE_URL: endpoints.clickhouseUrl,
      ARGMAX_CLICKHOUSE_USER: endpoints.clickhouseUser,
      ARGMAX_CLICKHOUSE_PASSWORD: endpoints.clickhousePassword,
      ARGMAX_CLICKHOUSE_DATABASE: database,
      ARGMAX_PREDICTION_ID_SECRET: randomBytes(32).toString('base64url'),
      ARGMAX_ANALYTICS_BUCKET: bucket,
      ARGMAX_FEEDBACK_SINK: 'off',
      ARGMAX_FEEDBACK_EVENTS_SINK: 'off',
      ARGMAX_FEEDBACK_EVALUATION_INTERVAL_SECONDS: '0',
      ARGMAX_FEEDBACK_RETENTION_INTERVAL_SECONDS: '0',
      ARGMAX_FEEDBACK_STREAM: feedback.stream,
      ARGMAX_FEEDBACK_SUBJECT_ROOT: feedback.root,
      ARGMAX_FEEDBACK_LOG_STREAM: uniqueName('FEEDBACK_LOG'),
      ARGMAX_FEEDBACK_LOG_SUBJECT_ROOT: uniqueName('fblog'),
      ARGMAX_REGISTRY_STREAM: followed.REGISTRY.stream,
      ARGMAX_REGISTRY_SUBJECT_ROOT: followed.REGISTRY.root,
      ARGMAX_DATASET_STREAM: followed.DATASET.stream,
      ARGMAX_DATASET_SUBJECT_ROOT: followed.DATASET.root,
      ARGMAX_TRAINING_STREAM: followed.TRAINING.stream,
      ARGMAX_TRAINING_SUBJECT_ROOT: followed.TRAINING.root,
      ARGMAX_FEEDBACK_IDEMPOTENCY_BUCKET: uniqueName('FEEDBACK_IDEMPOTENCY'),
      ARGMAX_FEEDBACK_SCHEMA: uniqueName('feedback').toLowerCase(),
    }
  },
  requiredSettings: [
    'ARGMAX_S3_ACCESS_KEY_ID',
    'ARGMAX_CLICKHOUSE_URL',
    'ARGMAX_PREDICTION_ID_SECRET',
  ],
  stream: feedback.stream,
  // ClickHouse and S3, and each projection (registry, its own events, dataset registrations).
  readinessChecks: ['clickhouse', 's3', 'registry', 'feedback', 'datasetLinks'],
  subjects: [`${feedback.root}.>`],
  apiPath: '/v1/feedback',
  mainFile: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
})
