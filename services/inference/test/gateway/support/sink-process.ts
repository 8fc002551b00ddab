import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { launchArgs, stackEndpoints } from '@argmax/testkit'
import type { InferenceStreamNames } from '../../../src/streams.ts'

const sinkMain = fileURLToPath(new URL('../../../src/sink-main.ts', import.meta.url))

export interface SinkProcessOptions {
  clickhouse: { url: string; user: string; password: string; database: string }
  /** Where the sink archives dropped partitions. */
  bucket: string
  names: Pick<InferenceStreamNames, 'log' | 'batch'>
  /** More settings (batch size, ack wait…). */
  env?: Record<string, string>
}

/** `sink-main.ts` as its own process on the test kit's NATS and S3; resolves once it is ready. */
export async function spawnSink(options: SinkProcessOptions): Promise<ChildProcess> {
  const endpoints = stackEndpoints()
  const child = spawn(process.execPath, launchArgs(sinkMain), {
    env: {
      ...process.env,
      ARGMAX_NATS_URL: endpoints.natsUrl,
      ARGMAX_S3_ENDPOINT: endpoints.s3.endpoint,
      ARGMAX_S3_REGION: endpoints.s3.region,
      ARGMAX_S3_ACCESS_KEY_ID: endpoints.s3.accessKeyId,
      ARGMAX_S3_SECRET_ACCESS_KEY: endpoints.s3.secretAccessKey,
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
      ARGMAX_CLICKHOUSE_URL: options.clickhouse.url,
      ARGMAX_CLICKHOUSE_USER: options.clickhouse.user,
      ARGMAX_CLICKHOUSE_PASSWORD: options.clickhouse.password,
      ARGMAX_CLICKHOUSE_DATABASE: options.clickhouse.database,
      ARGMAX_ANALYTICS_BUCKET: options.bucket,
      ARGMAX_INFERENCE_LOG_STREAM: options.names.log.stream,
      ARGMAX_INFERENCE_LOG_SUBJECT_PREFIX: options.names.log.subjectPrefix,
      ARGMAX_INFERENCE_STREAM: options.names.batch.stream,
      ARGMAX_INFERENCE_SUBJECT_PREFIX: options.names.batch.subjectPrefix,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"inference-sink service ready"')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`sink exited ${code}: ${stderr}`)))
  })
  return child
}
