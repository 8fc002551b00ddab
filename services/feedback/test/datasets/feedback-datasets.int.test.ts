import { GetObjectCommand } from '@aws-sdk/client-s3'
import { parseS3Uri } from '@argmax/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FeedbackDatasetView, PinView } from '../../src/api/contract.ts'
import { startDataset } from '../support/dataset.ts'
import { regressionSignature, startHarness, type Harness } from '../support/harness.ts'
import { eventually } from '@argmax/testkit'

const MINUTE = 60_000

describe('feedback datasets: labelled predictions registered as dataset versions', () => {
  let h: Harness
  let dataset: Awaited<ReturnType<typeof startDataset>>

  async function waitForStatus(id: string, status: string) {
    return eventually(
      async () => {
        const view = await h.call<FeedbackDatasetView>(
          'GET',
          `/v1/feedback/datasets/${id}`,
          h.tokens.alice,
        )
        return view.body.status === status ? view.body : undefined
      },
      60_000,
      `feedback dataset ${id} ${status}`,
    )
  }

  beforeAll(async () => {
    h = await startHarness({ start: new Date('2026-12-01T12:00:00Z') })
    dataset = await startDataset(h)
    await h.registerModel({
      model: 'films',
      version: 1,
      ownerId: 'alice',
      task: 'regression',
      signature: regressionSignature(
        [
          { name: 'budget', type: 'FP32' },
          { name: 'genre', type: 'BYTES' },
        ],
        'rating',
      ),
    })
    await h.release('films', { stable: 1 })
    await h.settle()
    const inputs = Array.from({ length: 100 }, (_, i) => ({
      budget: 1_000 * i,
      genre: i % 10 === 0 ? null : ['drama', 'comedy, dark', 'say "hi"'][i % 3]!,
    }))
    const ids = await h.logPredictions(
      'films',
      1,
      inputs.map((input, i) => ({
        inputs: input,
        prediction: 5,
        at: new Date(h.clock.now().getTime() - (100 - i) * MINUTE),
      })),
    )
    // 60 labelled, the first 5 corrected later.
    await h.call('POST', '/v1/feedback', h.tokens.alice, {
      labels: ids.slice(0, 60).map((predictionId, i) => ({ predictionId, value: i / 10 })),
    })
    h.clock.advance(1_000)
    await h.call('POST', '/v1/feedback', h.tokens.alice, {
      labels: ids.slice(0, 5).map((predictionId) => ({ predictionId, value: 9.5 })),
    })
    await eventually(async () => {
      const [row] = await h.service.analytics.query<{ n: string }>(
        'SELECT count() AS n FROM feedback_history',
      )
      return Number(row!.n) === 65 ? true : undefined
    })
  }, 120_000)
  afterAll(async () => {
    await dataset?.service.stop()
    await h?.stop()
  })

  it('snapshots a window to S3 as CSV and the dataset service registers and validates it, with lineage', async () => {
    h.clock.advance(MINUTE)
    const created = await h.call<{ item: FeedbackDatasetView }>(
      'POST',
      '/v1/feedback/datasets',
      h.tokens.alice,
      {
        model: 'films',
        select: { window: '1d' },
      },
    )
    expect(created.status).toBe(202)
    expect(created.body.item).toMatchObject({
      status: 'REQUESTED',
      model: 'films',
      ownerId: 'alice',
      format: 'csv',
    })
    const done = await waitForStatus(created.body.item.id, 'REGISTERED')
    expect(done.rowCount).toBe(60)
    expect(done.versions).toEqual([1])

    // The file: the model's input columns, then the label column; labels as last corrected.
    const where = parseS3Uri(done.object!.uri)!
    const object = await h.s3.send(new GetObjectCommand({ Bucket: where.bucket, Key: where.key }))
    const csv = await object.Body!.transformToString()
    const lines = csv.trim().split('\n')
    expect(lines[0]).toBe('budget,genre,rating')
    expect(lines).toHaveLength(61)
    expect(lines[1]).toBe('0,,9.5')
    expect(lines).toContain('1000,"comedy, dark",9.5')
    expect(lines).toContain('2000,"say ""hi""",9.5')
    expect(lines[60]).toBe('59000,"say ""hi""",5.9')

    // The dataset context's view of it: a validated version of the model's feedback dataset,
    // owned by the model's owner, profiled like any upload.
    const version = await dataset.call<{
      status: string
      rowCount: number
      schema: Array<{ name: string }>
    }>('GET', `/v1/datasets/${done.datasetId}/versions/${done.datasetVersionId}`, h.tokens.alice)
    expect(version.body).toMatchObject({ status: 'VALIDATED', rowCount: 60 })
    expect(version.body.schema.map((c) => c.name)).toEqual(['budget', 'genre', 'rating'])
    const [started] = await h.store.load(`${h.names.dataset.root}.version.${done.datasetVersionId}`)
    expect(started!.data).toMatchObject({
      lineage: { kind: 'feedback', feedbackDatasetId: done.id, model: 'films', versions: [1] },
    })
  })

  it('writes JSON Lines of one version, and is idempotent under a key', async () => {
    const body = { model: 'films', select: { version: 1 }, format: 'jsonl' }
    const headers = { 'idempotency-key': 'snap-1' }
    const first = await h.call<{ item: FeedbackDatasetView }>(
      'POST',
      '/v1/feedback/datasets',
      h.tokens.alice,
      body,
      headers,
    )
    const again = await h.call<{ item: FeedbackDatasetView }>(
      'POST',
      '/v1/feedback/datasets',
      h.tokens.alice,
      body,
      headers,
    )
    expect(again.body.item.id).toBe(first.body.item.id)
    const done = await waitForStatus(first.body.item.id, 'REGISTERED')
    const where = parseS3Uri(done.object!.uri)!
    const text = await (
      await h.s3.send(new GetObjectCommand({ Bucket: where.bucket, Key: where.key }))
    ).Body!.transformToString()
    const rows = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(rows).toHaveLength(60)
    expect(rows[0]).toEqual({ budget: 0, genre: null, rating: 9.5 })
  })

  it('records an empty selection as EMPTY and registers nothing', async () => {
    const created = await h.call<{ item: FeedbackDatasetView }>(
      'POST',
      '/v1/feedback/datasets',
      h.tokens.alice,
      {
        model: 'films',
        select: { window: '5m' },
      },
    )
    const done = await waitForStatus(created.body.item.id, 'EMPTY')
    expect(done.rowCount).toBe(0)
  })

  it('lets only admins pin a registered feedback dataset; others cannot see or ask', async () => {
    const list = await h.call<{ items: FeedbackDatasetView[] }>(
      'GET',
      '/v1/feedback/datasets?model=films',
      h.tokens.alice,
    )
    const registered = list.body.items.find((d) => d.status === 'REGISTERED')!
    const empty = list.body.items.find((d) => d.status === 'EMPTY')!
    const pin = { model: 'films', feedbackDatasetId: registered.id }
    expect((await h.call('PUT', '/v1/feedback/datasets/pin', h.tokens.alice, pin)).status).toBe(403)
    expect(
      (
        await h.call('PUT', '/v1/feedback/datasets/pin', h.tokens.admin, {
          ...pin,
          feedbackDatasetId: empty.id,
        })
      ).status,
    ).toBe(409)
    const pinned = await h.call<{ pin: PinView }>(
      'PUT',
      '/v1/feedback/datasets/pin',
      h.tokens.admin,
      pin,
    )
    expect(pinned.status).toBe(200)
    expect(pinned.body.pin).toMatchObject({
      feedbackDatasetId: registered.id,
      datasetVersionId: registered.datasetVersionId,
      pinnedBy: 'root',
    })
    const read = await h.call<PinView>(
      'GET',
      '/v1/feedback/datasets/pin?model=films',
      h.tokens.alice,
    )
    expect(read.body.feedbackDatasetId).toBe(registered.id)
    const events = await h.store.load(`${h.names.feedback.root}.model.films`)
    expect(events.map((e) => e.type)).toContain('FeedbackDatasetPinned')

    expect(
      (await h.call('GET', `/v1/feedback/datasets/${registered.id}`, h.tokens.bob)).status,
    ).toBe(404)
    expect(
      (
        await h.call('POST', '/v1/feedback/datasets', h.tokens.bob, {
          model: 'films',
          select: { window: '1d' },
        })
      ).status,
    ).toBe(404)
    expect(
      (
        await h.call('POST', '/v1/feedback/datasets', h.tokens.analyst, {
          model: 'films',
          select: { window: '1d' },
        })
      ).status,
    ).toBe(403)
  })
})
