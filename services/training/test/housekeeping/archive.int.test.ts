import { GetObjectCommand } from '@aws-sdk/client-s3'
import { s3Client } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { RunView } from '../../src/api/contract.ts'
import { archiveFinishedRuns } from '../../src/application/archive-runs.ts'
import { archiveKey } from '../../src/application/object-keys.ts'
import { runSubject } from '../../src/streams.ts'
import {
  moviesRun,
  startTrainingHarness,
  testClock,
  type TrainingHarness,
} from '../support/harness.ts'

const DAY_MS = 24 * 3600 * 1000

/**
 * Seed 001's retention against the real stack: a run finished more than 180 days ago leaves the
 * read model for an S3 record; its events stay. The clock is injected, not waited for.
 */
describe('archive of finished runs', { timeout: 300_000 }, () => {
  const clock = testClock()
  let h: TrainingHarness
  beforeAll(async () => {
    h = await startTrainingHarness({ trainer: 'real', clock })
  })
  afterAll(() => h?.stop())

  it('moves a run finished 180 days ago to S3 and out of the read model; its events stay', async () => {
    const { versionId } = await h.uploadVersion(h.tokens.alice)
    const created = await h.submit(h.tokens.alice, moviesRun(versionId))
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const run = created.body['run'] as RunView
    const ready = await h.waitForRun(run.id, (r) => r.status === 'READY' || r.status === 'FAILED')
    expect(ready.status).toBe('READY')

    clock.advance(179 * DAY_MS)
    expect(await archiveFinishedRuns(h.training.deps)).toEqual({ archived: [], failures: [] })
    expect((await h.call('GET', `/v1/runs/${run.id}`, h.tokens.alice)).status).toBe(200)

    clock.advance(2 * DAY_MS)
    expect(await archiveFinishedRuns(h.training.deps)).toEqual({
      archived: [run.id],
      failures: [],
    })
    const events = await h.events(runSubject(h.names, run.id))
    expect(events.map((e) => e.type)).toEqual([
      'TrainingRunQueued',
      'TrainingAttemptStarted',
      'TrainingRunSucceeded',
      'TrainingRunArchived',
    ])
    const object = await s3Client().send(
      new GetObjectCommand({ Bucket: h.bucket, Key: archiveKey(run.id) }),
    )
    const record = JSON.parse(await object.Body!.transformToString()) as {
      run: { id: string; status: string }
      attempts: unknown[]
    }
    expect(record.run).toMatchObject({ id: run.id, status: 'READY' })
    expect(record.attempts).toHaveLength(1)

    // The runs projection drops the rows once it applies TrainingRunArchived.
    await vi.waitFor(
      async () =>
        expect((await h.call('GET', `/v1/runs/${run.id}`, h.tokens.alice)).status).toBe(404),
      { timeout: 20_000, interval: 200 },
    )
    // A second pass finds nothing more to do.
    expect(await archiveFinishedRuns(h.training.deps)).toEqual({ archived: [], failures: [] })
  })
})
