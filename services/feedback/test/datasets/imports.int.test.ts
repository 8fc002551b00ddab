import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forged } from '@argmax/testkit/forged'
import type { ImportView } from '../../src/api/contract.ts'
import { startDataset } from '../support/dataset.ts'
import { regressionSignature, startHarness, type Harness } from '../support/harness.ts'
import { eventually } from '@argmax/testkit'

describe('POST /v1/feedback/imports: labels from an uploaded dataset version', () => {
  let h: Harness
  let dataset: Awaited<ReturnType<typeof startDataset>>
  let upload: { datasetId: string; versionId: string }

  beforeAll(async () => {
    h = await startHarness()
    dataset = await startDataset(h)
    const signature = regressionSignature([{ name: 'x', type: 'FP32' }], 'rating')
    await h.registerModel({
      model: 'films',
      version: 1,
      ownerId: 'alice',
      task: 'regression',
      signature,
    })
    await h.registerModel({
      model: 'other',
      version: 1,
      ownerId: 'bob',
      task: 'regression',
      signature,
    })
    await h.settle()
    const ids = await h.logPredictions(
      'films',
      1,
      Array.from({ length: 50 }, (_, i) => ({ inputs: { x: i }, prediction: 5 })),
    )
    const [bobs] = await h.logPredictions('other', 1, [{ inputs: { x: 1 }, prediction: 1 }])
    const forgedId = forged(ids[0]!)
    const lines = ['prediction_id,true rating,note']
    ids.forEach((id, i) => lines.push(`${id},${(i / 10).toFixed(1)},ok`))
    lines.push(`${forgedId},5,forged`) // line 52
    lines.push(`${ids[1]},five,not a number`) // line 53
    lines.push(`${ids[2]},,blank`) // line 54
    lines.push(`${bobs},3,someone else's model`) // line 55
    upload = await dataset.uploadCsv(h.tokens.alice, 'ground-truth', `${lines.join('\n')}\n`)
  }, 120_000)
  afterAll(async () => {
    await dataset?.service.stop()
    await h?.stop()
  })

  it('imports the good rows and names every refused one by line and column', async () => {
    const created = await h.call<{ item: ImportView }>(
      'POST',
      '/v1/feedback/imports',
      h.tokens.alice,
      {
        ...upload,
        mapping: { predictionId: 'prediction_id', label: 'true rating' },
      },
    )
    expect(created.status).toBe(202)
    const done = await eventually(async () => {
      const view = await h.call<ImportView>(
        'GET',
        `/v1/feedback/imports/${created.body.item.id}`,
        h.tokens.alice,
      )
      return view.body.status === 'COMPLETED' ? view.body : undefined
    }, 30_000)
    expect(done).toMatchObject({ accepted: 50, rejected: 4 })
    expect(done.errors.map((e) => [e.row, e.column])).toEqual([
      [52, 'prediction_id'],
      [53, 'true rating'],
      [54, 'true rating'],
      [55, 'prediction_id'],
    ])
    expect(done.errors[0]!.message).toMatch(/not issued by this platform/)
    expect(done.errors[3]!.message).toMatch(/model other, which is not one of yours/)
    const rows = await eventually(async () => {
      const found = await h.service.analytics.query<{ n: string; s: number; source: string }>(
        `SELECT count() AS n, sum(value_number) AS s, any(source) AS source FROM feedback WHERE model = 'films'`,
      )
      return Number(found[0]!.n) === 50 ? found[0] : undefined
    })
    expect(rows!.s).toBeCloseTo(122.5, 9)
    expect(rows!.source).toBe(`import:${created.body.item.id}`)
  })

  it('refuses a column the version does not have, and versions of others', async () => {
    const bad = await h.call<{ errors: Array<{ field: string }> }>(
      'POST',
      '/v1/feedback/imports',
      h.tokens.alice,
      {
        ...upload,
        mapping: { predictionId: 'prediction_id', label: 'rating' },
      },
    )
    expect(bad.status).toBe(400)
    expect(bad.body.errors.map((e) => e.field)).toEqual(['/mapping/label'])
    const bob = await h.call('POST', '/v1/feedback/imports', h.tokens.bob, {
      ...upload,
      mapping: { predictionId: 'prediction_id', label: 'true rating' },
    })
    expect(bob.status).toBe(404)
  })
})
