import { fileURLToPath } from 'node:url'
import { stackEnv } from '@argmax/testkit'
import type { InferenceStreamNames } from '../../../src/streams.ts'
import { spawnServiceProcess, type ServiceProcess } from './service-process.ts'

const sinkMain = fileURLToPath(new URL('../../../src/sink-main.ts', import.meta.url))

export interface SinkProcessOptions {
  clickhouse: { url: string; user: string; password: string; database: string }
  /** Where the sink archives dropped partitions. */
  bucket: string
  names: Pick<InferenceStreamNames, 'log' | 'batch'>
  /** More settings (batch size, ack wait…). */
  env?: Record<string, string>
}

/**
 * `sink-main.ts` as its own process on the test kit's NATS and S3 and the given ClickHouse;
 * resolves once it is ready.
 */
export function spawnSink(options: SinkProcessOptions): Promise<ServiceProcess> {
  return spawnServiceProcess(
    sinkMain,
    {
      ...process.env,
      ...stackEnv(),
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
    (line) => line.msg === 'inference-sink service ready',
  )
}
