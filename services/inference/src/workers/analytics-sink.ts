import type { S3Client } from '@aws-sdk/client-s3'
import type { ClickhouseSettings } from '@argmax/config'
import { analyticsMigrations, createAnalyticsClient, migrateAnalytics } from '@argmax/analytics'
import type { RunningConsumer } from '@argmax/events'
import type { Logger } from '@argmax/telemetry'
import type { NatsConnection } from 'nats'
import type { SinkSettings } from '../config.ts'
import { startPredictionSink } from './prediction-sink.ts'
import { scheduleRetention } from './retention-schedule.ts'

export interface AnalyticsSinkOptions {
  nc: NatsConnection
  s3: S3Client
  clickhouse: ClickhouseSettings
  database: string
  settings: SinkSettings
  now: () => Date
  logger: Logger
  parkingReplicas: number
}

export interface RunningAnalyticsSink {
  sink: RunningConsumer
  stop(): Promise<void>
}

/**
 * Everything that writes the prediction log to ClickHouse, wherever it runs (in the gateway's
 * process, or alone in `sink-main.ts`): the analytics migrations first, then the batch
 * consumer, then (unless its interval is 0) the retention schedule.
 */
export async function startAnalyticsSink(
  options: AnalyticsSinkOptions,
): Promise<RunningAnalyticsSink> {
  const { settings, logger } = options
  const client = createAnalyticsClient(options.clickhouse, { database: options.database })
  try {
    const applied = await migrateAnalytics(client, analyticsMigrations)
    if (applied.length > 0) logger.info({ migrations: applied }, 'analytics migrations applied')
    const sink = await startPredictionSink({
      nc: options.nc,
      names: settings.names,
      client,
      maxBatch: settings.sink.maxBatch,
      maxWaitMs: settings.sink.maxWaitMs,
      outageWaitMs: settings.sink.outageWaitMs,
      ackWaitMs: settings.sink.ackWaitMs,
      log: logger,
      parkingReplicas: options.parkingReplicas,
    })
    const retention =
      settings.retention.intervalMs > 0
        ? scheduleRetention({
            client,
            s3: options.s3,
            bucket: settings.bucket,
            retentionDays: settings.retention.days,
            intervalMs: settings.retention.intervalMs,
            now: options.now,
            log: logger,
          })
        : undefined
    return {
      sink,
      async stop() {
        await retention?.stop()
        await sink.stop()
        await client.close()
      },
    }
  } catch (error) {
    await client.close()
    throw error
  }
}
