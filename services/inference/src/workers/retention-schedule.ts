import type { S3Client } from '@aws-sdk/client-s3'
import { applyRetention, type AnalyticsClient } from '@argmax/analytics'

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
export function scheduleRetention(options: RetentionScheduleOptions): { stop(): Promise<void> } {
  let running: Promise<void> | undefined
  const run = () => {
    running ??= applyRetention({
      client: options.client,
      s3: options.s3,
      bucket: options.bucket,
      table: 'predictions',
      dateColumn: 'date',
      retentionDays: options.retentionDays,
      prefix: PREDICTIONS_ARCHIVE_PREFIX,
      now: options.now,
    })
      .then((archived) => {
        for (const day of archived)
          options.log.info({ ...day }, 'predictions day archived and dropped')
      })
      .catch((error: unknown) =>
        options.log.warn({ err: error }, 'predictions retention failed; next run retries'),
      )
      .finally(() => (running = undefined))
  }
  const first = setTimeout(run, 10_000)
  const timer = setInterval(run, options.intervalMs)
  first.unref()
  timer.unref()
  return {
    async stop() {
      clearTimeout(first)
      clearInterval(timer)
      await running
    },
  }
}
