import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forged } from '@argmax/testkit/forged'
import {
  classificationSignature,
  regressionSignature,
  startHarness,
  type Harness,
} from '../support/harness.ts'
import { eventually } from '@argmax/testkit'

const DAY = 24 * 3600 * 1000

describe('ground truth: POST /v1/feedback', () => {
  let h: Harness
  const query = async <T>(sql: string) => h.service.analytics.query<T>(sql)

  beforeAll(async () => {
    h = await startHarness()
    await h.registerModel({
      model: 'movies',
      version: 1,
      ownerId: 'alice',
      task: 'regression',
      signature: regressionSignature([{ name: 'budget', type: 'FP32' }], 'IMDB Rating'),
      metrics: { mae: 0.65 },
    })
    await h.registerModel({
      model: 'species',
      version: 1,
      ownerId: 'alice',
      task: 'classification',
      signature: classificationSignature(
        [{ name: 'bill', type: 'FP32' }],
        ['Adelie', 'Gentoo', '1'],
      ),
    })
    await h.settle()
  })
  afterAll(() => h?.stop())

  const current = (id: string) =>
    query<{ value_number: number | null; value_class: string | null }>(
      `SELECT value_number, value_class FROM feedback WHERE prediction_id = '${id}'`,
    )

  it('accepts a batch, and every label reaches ClickHouse once', async () => {
    const ids = await h.logPredictions('movies', 1, [
      { inputs: { budget: 1 }, prediction: 6 },
      { inputs: { budget: 2 }, prediction: 7 },
      { inputs: { budget: 3 }, prediction: 8 },
    ])
    const sent = await h.call<{ accepted: number; requestId: string }>(
      'POST',
      '/v1/feedback',
      h.tokens.alice,
      {
        labels: ids.map((predictionId, i) => ({ predictionId, value: 6.5 + i })),
      },
    )
    expect(sent.status).toBe(202)
    expect(sent.body.accepted).toBe(3)
    const rows = await eventually(async () => {
      const found = await query<{ prediction_id: string; value_number: number; version: number }>(
        `SELECT prediction_id, value_number, version FROM feedback WHERE model = 'movies' ORDER BY value_number`,
      )
      return found.length === 3 ? found : undefined
    })
    expect(rows.map((r) => r.value_number)).toEqual([6.5, 7.5, 8.5])
    expect(rows.map((r) => r.prediction_id)).toEqual(ids)
    const joined = await query<{ error: number; labelled: number }>(
      `SELECT error, labelled FROM prediction_outcomes WHERE prediction_id = '${ids[0]}'`,
    )
    expect(joined).toEqual([{ error: 0.5, labelled: 1 }])
  })

  it('takes a single label too', async () => {
    const [id] = await h.logPredictions('movies', 1, [{ inputs: { budget: 4 }, prediction: 5 }])
    const sent = await h.call('POST', '/v1/feedback', h.tokens.alice, {
      predictionId: id,
      value: 4,
    })
    expect(sent.status).toBe(202)
    await eventually(async () => ((await current(id!)).length === 1 ? true : undefined))
  })

  it('refuses forged, malformed and expired ids and wrong types, naming row and field, and records nothing', async () => {
    const [good] = await h.logPredictions('movies', 1, [{ inputs: { budget: 1 }, prediction: 6 }])
    const forgedId = forged(good!)
    const expired = h.predictionId('movies', 1, new Date(h.clock.now().getTime() - 31 * DAY))
    const sent = await h.call<{ errors: Array<{ field: string; message: string }> }>(
      'POST',
      '/v1/feedback',
      h.tokens.alice,
      {
        labels: [
          { predictionId: good, value: 6 },
          { predictionId: forgedId, value: 6 },
          { predictionId: 'nope', value: 6 },
          { predictionId: expired, value: 6 },
          { predictionId: h.predictionId('movies', 1), value: 'six' },
        ],
      },
    )
    expect(sent.status).toBe(400)
    const fields = sent.body.errors.map((e) => e.field)
    expect(fields).toEqual([
      '/labels/1/predictionId',
      '/labels/2/predictionId',
      '/labels/3/predictionId',
      '/labels/4/value',
    ])
    expect(sent.body.errors[0]!.message).toMatch(/not issued by this platform/)
    expect(sent.body.errors[2]!.message).toMatch(/expired.*30 days/)
    expect(sent.body.errors[3]!.message).toMatch(/finite number/)
    // The good row of the refused request was not recorded either.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await current(good!)).toEqual([])
  })

  it('checks classes against the version’s output schema', async () => {
    const [a, b] = await h.logPredictions('species', 1, [
      { inputs: { bill: 1 }, predictedClass: 'Adelie', probabilities: [0.7, 0.2, 0.1] },
      { inputs: { bill: 2 }, predictedClass: 'Gentoo', probabilities: [0.1, 0.8, 0.1] },
    ])
    const bad = await h.call<{ errors: Array<{ field: string; message: string }> }>(
      'POST',
      '/v1/feedback',
      h.tokens.alice,
      {
        labels: [
          { predictionId: a, value: 'Chinstrap' },
          { predictionId: b, value: 2.5 },
        ],
      },
    )
    expect(bad.status).toBe(400)
    expect(bad.body.errors.map((e) => e.field)).toEqual(['/labels/0/value', '/labels/1/value'])
    expect(bad.body.errors[0]!.message).toMatch(/"Adelie", "Gentoo", "1"/)
    // A class whose name is a number may be sent as one.
    const good = await h.call('POST', '/v1/feedback', h.tokens.alice, {
      labels: [
        { predictionId: a, value: 'Gentoo' },
        { predictionId: b, value: 1 },
      ],
    })
    expect(good.status).toBe(202)
    await eventually(async () => ((await current(b!))[0]?.value_class === '1' ? true : undefined))
  })

  it('lets users label only their own models: others 404, analysts 403, admins all', async () => {
    const [id] = await h.logPredictions('movies', 1, [{ inputs: { budget: 9 }, prediction: 6 }])
    const bob = await h.call<{ detail: string }>('POST', '/v1/feedback', h.tokens.bob, {
      predictionId: id,
      value: 1,
    })
    expect(bob.status).toBe(404)
    expect(bob.body.detail).toMatch(/model movies not found/)
    const analyst = await h.call('POST', '/v1/feedback', h.tokens.analyst, {
      predictionId: id,
      value: 1,
    })
    expect(analyst.status).toBe(403)
    const admin = await h.call('POST', '/v1/feedback', h.tokens.admin, {
      predictionId: id,
      value: 1,
    })
    expect(admin.status).toBe(202)
  })

  it('keeps every correction in the record and counts the last one', async () => {
    const [id] = await h.logPredictions('movies', 1, [{ inputs: { budget: 5 }, prediction: 6 }])
    for (const value of [5, 7, 6]) {
      expect(
        (await h.call('POST', '/v1/feedback', h.tokens.alice, { predictionId: id, value })).status,
      ).toBe(202)
      h.clock.advance(1000)
    }
    await eventually(async () => {
      const history = await query(
        `SELECT label_id FROM feedback_history WHERE prediction_id = '${id}'`,
      )
      return history.length === 3 ? true : undefined
    })
    await eventually(async () => ((await current(id!))[0]?.value_number === 6 ? true : undefined))
    expect(await current(id!)).toEqual([{ value_number: 6, value_class: null }])
    const counted = await query<{ n: string }>(
      `SELECT count() AS n FROM prediction_outcomes WHERE prediction_id = '${id}' AND labelled`,
    )
    expect(counted).toEqual([{ n: '1' }])
  })

  it('is idempotent under an Idempotency-Key, and refuses the key for another body', async () => {
    const [id] = await h.logPredictions('movies', 1, [{ inputs: { budget: 6 }, prediction: 6 }])
    const headers = { 'idempotency-key': 'key-1' }
    const first = await h.call<{ requestId: string; repeated: boolean }>(
      'POST',
      '/v1/feedback',
      h.tokens.alice,
      { predictionId: id, value: 3 },
      headers,
    )
    h.clock.advance(5000)
    // A correction in between keeps winning when the first request is retried.
    await h.call('POST', '/v1/feedback', h.tokens.alice, { predictionId: id, value: 4 })
    h.clock.advance(5000)
    const again = await h.call<{ requestId: string; repeated: boolean }>(
      'POST',
      '/v1/feedback',
      h.tokens.alice,
      { predictionId: id, value: 3 },
      headers,
    )
    expect(again.status).toBe(202)
    expect(again.body).toMatchObject({ requestId: first.body.requestId, repeated: true })
    const other = await h.call<{ errors: Array<{ field: string }> }>(
      'POST',
      '/v1/feedback',
      h.tokens.alice,
      { predictionId: id, value: 9 },
      headers,
    )
    expect(other.status).toBe(422)
    expect(other.body.errors[0]!.field).toBe('header/idempotency-key')
    await eventually(async () => {
      const history = await query(
        `SELECT label_id FROM feedback_history WHERE prediction_id = '${id}'`,
      )
      return history.length === 2 ? true : undefined
    })
    // The sink writes the receipts, then the current labels.
    await eventually(async () => ((await current(id!)).length === 1 ? true : undefined))
    expect(await current(id!)).toEqual([{ value_number: 4, value_class: null }])
  })

  it('joins a label that arrived before its prediction reached ClickHouse', async () => {
    const at = h.clock.now()
    const id = h.predictionId('movies', 1, at)
    expect(
      (await h.call('POST', '/v1/feedback', h.tokens.alice, { predictionId: id, value: 7 })).status,
    ).toBe(202)
    await eventually(async () => ((await current(id)).length === 1 ? true : undefined))
    // Now the prediction's row arrives, as inference's sink would write it.
    await h.service.analytics.insert('predictions', [
      {
        prediction_id: id,
        request_id: 'late',
        time: at.toISOString().slice(0, 19).replace('T', ' '),
        time_ms: 0,
        date: at.toISOString().slice(0, 10),
        model: 'movies',
        version: 1,
        variant: 'stable',
        release_sequence: null,
        caller: 'app',
        protocol: 'rest',
        status: 'success',
        error: '',
        latency_ms: 1,
        inputs: '{}',
        outputs: '{}',
        prediction: 6.5,
        predicted_class: null,
        batch_id: 'late',
        row_index: 0,
      },
    ])
    expect(
      await query(
        `SELECT label_number, error FROM prediction_outcomes WHERE prediction_id = '${id}'`,
      ),
    ).toEqual([{ label_number: 7, error: 0.5 }])
  })

  it('refuses more labels than the limit and bodies without a label', async () => {
    const tooMany = Array.from({ length: 10_001 }, () => ({ predictionId: 'p1_x.y', value: 1 }))
    const big = await h.call<{ errors: Array<{ field: string }> }>(
      'POST',
      '/v1/feedback',
      h.tokens.alice,
      { labels: tooMany },
    )
    expect(big.status).toBe(400)
    expect(big.body.errors[0]!.field).toBe('/labels')
    const empty = await h.call<{ errors: Array<{ field: string }> }>(
      'POST',
      '/v1/feedback',
      h.tokens.alice,
      {},
    )
    expect(empty.status).toBe(400)
    expect(empty.body.errors.map((e) => e.field)).toEqual(['/predictionId', '/value'])
  })
})
