import { fileURLToPath } from 'node:url'
import { datasetStreamSpec } from '@argmax/dataset-service'
import { ensureStreams } from '@argmax/events'
import { describeServiceShell } from '@argmax/service/testing'
import { connectNats, freshBucket, stackEndpoints, uniqueName } from '@argmax/testkit'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { loadTrainingConfig } from '../src/config.ts'
import { startTrainingService } from '../src/service.ts'

// Streams of their own; the DATASET stream training projects from is the dataset service's,
// made here as that service would make it.
const stream = uniqueName('TRAINING')
const root = uniqueName('tr')
const datasetStream = uniqueName('DATASET')
const datasetRoot = uniqueName('ds')
const registryStream = uniqueName('REGISTRY')
const registryRoot = uniqueName('rg')
// The runner's work directory of every service the file starts, removed after it.
const workDirs: string[] = []
afterAll(() => {
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true })
})

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'argmax-training-shell-'))
  workDirs.push(dir)
  return dir
}

describeServiceShell({
  service: 'training',
  start: startTrainingService,
  loadConfig: loadTrainingConfig,
  async env() {
    const { s3 } = stackEndpoints()
    const { bucket } = await freshBucket('models')
    const jsm = await (await connectNats()).jetstreamManager()
    await ensureStreams(jsm, [
      datasetStreamSpec({ stream: datasetStream, root: datasetRoot }, 1),
      { name: registryStream, subjects: [`${registryRoot}.>`], retention: 'limits' },
    ])
    return {
      ARGMAX_S3_ENDPOINT: s3.endpoint,
      ARGMAX_S3_REGION: s3.region,
      ARGMAX_S3_ACCESS_KEY_ID: s3.accessKeyId,
      ARGMAX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
      ARGMAX_TRAINING_BUCKET: bucket,
      ARGMAX_TRAINING_STREAM: stream,
      ARGMAX_TRAINING_SUBJECT_ROOT: root,
      ARGMAX_TRAINING_DATASET_STREAM: datasetStream,
      ARGMAX_TRAINING_DATASET_SUBJECT_ROOT: datasetRoot,
      ARGMAX_TRAINING_REGISTRY_STREAM: registryStream,
      ARGMAX_TRAINING_REGISTRY_SUBJECT_ROOT: registryRoot,
      ARGMAX_TRAINING_SCHEMA: uniqueName('training').toLowerCase(),
      ARGMAX_TRAINING_RUN_TOKEN_SECRET: 'a-run-token-secret-for-the-shell-test-0123456789',
      ARGMAX_TRAINING_WORK_DIR: workDir(),
    }
  },
  requiredSettings: [
    'ARGMAX_S3_ACCESS_KEY_ID',
    'ARGMAX_S3_SECRET_ACCESS_KEY',
    'ARGMAX_TRAINING_RUN_TOKEN_SECRET',
  ],
  stream,
  subjects: [`${root}.>`],
  streamConfig: { duplicate_window: 2 * 60 * 1_000_000_000 },
  readinessChecks: [
    's3',
    'runs',
    'quotas',
    'metrics',
    'datasetVersions',
    'pipelines',
    'registryVersions',
  ],
  apiPath: '/v1/runs',
  authorizedStatus: 200,
  metrics: ['argmax_projection_position{', 'argmax_projection_failing{'],
  mainFile: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
})
