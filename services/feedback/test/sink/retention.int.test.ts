import { gunzipSync } from 'node:zlib'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { listDays } from '@argmax/analytics'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyFeedbackRetention } from '../../src/workers/feedback-retention.ts'
import { LABEL_COLUMNS, labelsText } from '../../src/workers/labels-text.ts'
import { startHarness, type Harness } from '../support/harness.ts'

const DAY = 24 * 3600 * 1000

describe('feedback retention: archived to S3, then dropped', () => {
  let h: Harness
  const now = new Date('2026-12-01T12:00:00Z')

  beforeAll(async () => {
    h = await startHarness({ start: now })
  })
  afterAll(() => h?.stop())

  it('archives every receipt of days past the retention, drops them and their current labels, keeps the rest', async () => {
    // Labels of predictions 40, 35 and 2 days old, as the sink wrote them (one corrected).
    const { chunks } = labelsText(
      [40, 35, 2].flatMap((days, d) =>
        [0, 1].map((chunk) => ({
          id: `e${d}${chunk}`,
          type: 'LabelsReceived',
          schemaVersion: 1,
          stream: 'FEEDBACK_LOG',
          subject: 'feedbacklog.m',
          occurredAt: now.toISOString(),
          actor: 'alice',
          correlationId: 'c',
          causationId: null,
          sequence: d * 2 + chunk + 1,
          data: {
            requestId: `r${d}${chunk}`,
            source: 'api',
            receivedAt: new Date(now.getTime() - (days - 1) * DAY + chunk * 1000).toISOString(),
            labels: Array.from({ length: 50 }, (_, i) => ({
              labelId: `l${d}${chunk}${i}`,
              predictionId: `p${d}-${i}`,
              model: 'm',
              version: 1,
              predictionTime: new Date(now.getTime() - days * DAY).toISOString(),
              value: chunk === 0 ? i : i + 0.5,
              revision: now.getTime() * 1000 + chunk,
            })),
          },
        })),
      ),
    )
    for (const table of ['feedback_receipts', 'feedback_labels'])
      for (const chunk of chunks)
        await h.service.analytics.insertTabSeparated(table, LABEL_COLUMNS, chunk)
    const { archived, dropped } = await applyFeedbackRetention({
      client: h.service.analytics,
      s3: h.s3,
      bucket: h.config.feedback.bucket,
      retentionDays: 30,
      now: () => now,
    })
    expect(archived.map((a) => [a.date, a.rows])).toEqual([
      ['2026-10-22', 100],
      ['2026-10-27', 100],
    ])
    expect(dropped).toEqual(['2026-10-22', '2026-10-27'])
    expect(await listDays(h.service.analytics, 'feedback_receipts')).toEqual(['2026-11-29'])
    expect(await listDays(h.service.analytics, 'feedback_labels')).toEqual(['2026-11-29'])
    // The archive holds every receipt of the day, corrections included.
    const object = await h.s3.send(
      new GetObjectCommand({ Bucket: h.config.feedback.bucket, Key: archived[0]!.key }),
    )
    const lines = gunzipSync(await object.Body!.transformToByteArray())
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { prediction_id: string; value_number: number })
    expect(lines).toHaveLength(100)
    expect(
      lines
        .filter((l) => l.prediction_id === 'p0-3')
        .map((l) => l.value_number)
        .sort(),
    ).toEqual([3, 3.5])
    // A second run has nothing left to do.
    const again = await applyFeedbackRetention({
      client: h.service.analytics,
      s3: h.s3,
      bucket: h.config.feedback.bucket,
      retentionDays: 30,
      now: () => now,
    })
    expect(again).toEqual({ archived: [], dropped: [] })
  })
})
