import type { S3Client } from '@aws-sdk/client-s3'
import {
  applyRetention,
  RETENTION_FIRST_RUN_MS,
  type AnalyticsClient,
  type ArchivedDay,
} from '@argmax/analytics'
import { schedulePeriodic, type PeriodicTask } from '@argmax/service'

export interface RetentionScheduleOptions {
  client: AnalyticsClient
  s3: S3Client
  bucket: string
  retentionDays: number
  intervalMs: number
  now: () => Date
  log: {
    info(fields: Record<string, unknown>, message: string): void
    warn(fields: Record<string, unknown>, message: string): void
  }
}

export const PREDICTIONS_ARCHIVE_PREFIX = 'archive'

/**
 * Every `intervalMs` (and once shortly after start): days of `predictions` older than the
 * retention are archived to `s3://<bucket>/archive/predictions/date=…/rows.jsonl.gz` and dropped
 * (see @argmax/analytics' applyRetention). Several sinks may run it at once: archiving a day
 * twice writes the same object, dropping it twice is a no-op.
 */
export function scheduleRetention(options: RetentionScheduleOptions): PeriodicTask<{
  archived: ArchivedDay[]
}> {
  return schedulePeriodic(
    async () => ({
      archived: await applyRetention({
        client: options.client,
        s3: options.s3,
        bucket: options.bucket,
        table: 'predictions',
        dateColumn: 'date',
        retentionDays: options.retentionDays,
        prefix: PREDICTIONS_ARCHIVE_PREFIX,
        now: options.now,
      }),
    }),
    {
      name: 'predictions retention',
      intervalMs: options.intervalMs,
      firstRunAfterMs: RETENTION_FIRST_RUN_MS,
      worthLogging: (report) => report.archived.length > 0,
      log: (fields, message) => options.log.info(fields, message),
      warn: (fields, message) => options.log.warn(fields, message),
    },
  )
}
