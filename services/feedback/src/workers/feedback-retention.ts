import {
  applyRetention,
  clickhouseDate,
  listDays,
  RETENTION_FIRST_RUN_MS,
  type AnalyticsClient,
  type ArchivedDay,
} from '@argmax/analytics'
import { schedulePeriodic, type PeriodicTask } from '@argmax/service'
import type { S3Client } from '@argmax/storage'
import type { Logger } from '@argmax/telemetry'

export const FEEDBACK_ARCHIVE_PREFIX = 'archive'
const DAY_MS = 24 * 3600 * 1000

/**
 * Feedback's 30-day retention on servers without TTL: every day of `feedback_receipts` (every
 * label as received — the complete record) older than the retention is archived to
 * `s3://<bucket>/archive/feedback_receipts/date=…/rows.jsonl.gz` and dropped (@argmax/analytics'
 * applyRetention: the object is written and its row count checked first); then the same days
 * of `feedback_labels`, which the receipts determine, are dropped. The days are the predictions'
 * days, so a day's labels go with its predictions (inference's retention drops those).
 */
export async function applyFeedbackRetention(options: {
  client: AnalyticsClient
  s3: S3Client
  bucket: string
  retentionDays: number
  now: () => Date
}): Promise<{ archived: ArchivedDay[]; dropped: string[] }> {
  const archived = await applyRetention({
    client: options.client,
    s3: options.s3,
    bucket: options.bucket,
    table: 'feedback_receipts',
    dateColumn: 'date',
    retentionDays: options.retentionDays,
    prefix: FEEDBACK_ARCHIVE_PREFIX,
    now: options.now,
  })
  // Days of current labels whose receipts are archived (this run or an earlier one).
  const cutoff = clickhouseDate(new Date(options.now().getTime() - options.retentionDays * DAY_MS))
  const dropped: string[] = []
  for (const date of await listDays(options.client, 'feedback_labels')) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || date >= cutoff) continue
    const receipts = await options.client.query<{ n: string }>(
      `SELECT count() AS n FROM ${options.client.database}.feedback_receipts WHERE date = '${date}'`,
    )
    // Only once the day's receipts are gone from the table, i.e. archived.
    if (Number(receipts[0]?.n ?? 0) > 0) continue
    await options.client.command(
      `ALTER TABLE ${options.client.database}.feedback_labels DROP PARTITION '${date}'`,
    )
    dropped.push(date)
  }
  return { archived, dropped }
}

/** Runs the retention every `intervalMs` (and once shortly after start). */
export function scheduleFeedbackRetention(
  options: Parameters<typeof applyFeedbackRetention>[0] & { intervalMs: number; logger: Logger },
): PeriodicTask<{ archived: ArchivedDay[]; dropped: string[] }> {
  return schedulePeriodic(() => applyFeedbackRetention(options), {
    name: 'feedback retention',
    intervalMs: options.intervalMs,
    firstRunAfterMs: RETENTION_FIRST_RUN_MS,
    worthLogging: (report) => report.archived.length + report.dropped.length > 0,
    log: (fields, message) => options.logger.info(fields, message),
    warn: (fields, message) => options.logger.warn(fields, message),
  })
}
