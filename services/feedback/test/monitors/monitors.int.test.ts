import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MonitorView, RetrainRequestView } from '../../src/api/contract.ts'
import { defaultMonitorId } from '../../src/workers/default-monitors.ts'
import { regressionSignature, startHarness, type Harness } from '../support/harness.ts'
import { startReceiver } from '../support/webhook-receiver.ts'
import { eventually } from '@argmax/testkit'

const MINUTE = 60_000

describe('monitors: OK → PENDING → FIRING → RESOLVED with an injected clock', () => {
  let h: Harness
  let receiver: Awaited<ReturnType<typeof startReceiver>>
  let monitor: MonitorView
  let labelled = 0

  /** Logs predictions with the given absolute error and labels them all. */
  async function traffic(count: number, error: number) {
    const ids = await h.logPredictions(
      'm',
      1,
      Array.from({ length: count }, (_, i) => ({
        inputs: { x: i },
        prediction: 5 + error,
        at: h.clock.now(),
      })),
    )
    const sent = await h.call('POST', '/v1/feedback', h.tokens.alice, {
      labels: ids.map((predictionId) => ({ predictionId, value: 5 })),
    })
    expect(sent.status).toBe(202)
    labelled += count
    await eventually(async () => {
      const [row] = await h.service.analytics.query<{ n: string }>(
        'SELECT count() AS n FROM feedback',
      )
      return Number(row!.n) === labelled ? true : undefined
    })
  }

  const state = async () => {
    await h.settle()
    return (await h.call<MonitorView>('GET', `/v1/monitors/${monitor.id}`, h.tokens.alice)).body
      .state
  }

  beforeAll(async () => {
    h = await startHarness({ start: new Date('2026-12-01T12:00:00Z'), webhookRetryDelaysMs: [200] })
    // The first delivery meets a 500 and is retried.
    receiver = await startReceiver([500])
    await h.registerModel({
      model: 'm',
      version: 1,
      ownerId: 'alice',
      task: 'regression',
      signature: regressionSignature([{ name: 'x', type: 'FP32' }]),
      metrics: { mae: 0.5 },
    })
    await h.release('m', { stable: 1 })
    await h.settle()
  })
  afterAll(async () => {
    await h?.stop()
    await receiver?.close()
  })

  it('gives a released model default monitors from its test metrics', async () => {
    const listed = await eventually(async () => {
      const answer = await h.call<{ items: MonitorView[] }>(
        'GET',
        '/v1/monitors?model=m',
        h.tokens.alice,
      )
      return answer.body.items.length === 2 ? answer.body.items : undefined
    })
    const quality = listed.find((m) => m.id === defaultMonitorId('m', 'quality'))!
    expect(quality).toMatchObject({
      isDefault: true,
      ownerId: 'alice',
      state: 'OK',
      rule: { metric: 'mae', comparison: '>', relativeToTest: 1.2, forSeconds: 300, minLabels: 50 },
    })
    // A second release changes nothing.
    await h.release('m', { stable: 1, shadow: 1 }, { stable: 1 })
    await new Promise((resolve) => setTimeout(resolve, 300))
    const again = await h.call<{ items: MonitorView[] }>(
      'GET',
      '/v1/monitors?model=m',
      h.tokens.alice,
    )
    expect(again.body.items).toHaveLength(2)
  })

  it('creates a monitor with a webhook; others cannot see it, analysts cannot write', async () => {
    const created = await h.call<{ item: MonitorView }>('POST', '/v1/monitors', h.tokens.alice, {
      model: 'm',
      name: 'MAE above 1',
      rule: {
        metric: 'mae',
        comparison: '>',
        threshold: 1,
        window: '1h',
        forSeconds: 300,
        minLabels: 20,
      },
      webhookUrl: receiver.url,
    })
    expect(created.status).toBe(201)
    monitor = created.body.item
    expect(monitor.state).toBe('OK')
    expect(monitor.webhook!.secret).toMatch(/^[0-9a-f]{64}$/)
    expect((await h.call('GET', `/v1/monitors/${monitor.id}`, h.tokens.bob)).status).toBe(404)
    const analyst = await h.call<MonitorView>('GET', `/v1/monitors/${monitor.id}`, h.tokens.analyst)
    expect(analyst.status).toBe(200)
    expect(analyst.body.webhook!.secret).toBeUndefined()
    expect(
      (await h.call('PATCH', `/v1/monitors/${monitor.id}`, h.tokens.analyst, { name: 'x' })).status,
    ).toBe(403)
    const bad = await h.call<{ errors: Array<{ field: string }> }>(
      'POST',
      '/v1/monitors',
      h.tokens.alice,
      {
        model: 'm',
        name: 'wrong task',
        rule: {
          metric: 'accuracy',
          comparison: '<',
          threshold: 0.5,
          window: '1h',
          forSeconds: 0,
          minLabels: 0,
        },
      },
    )
    expect(bad.status).toBe(400)
    expect(bad.body.errors[0]!.field).toBe('/rule/metric')
  })

  it('waits for enough labels, goes PENDING, and fires only after its for duration', async () => {
    await traffic(10, 2)
    await h.service.workers.evaluator.tick()
    expect(await state()).toBe('OK') // 10 labels < minLabels 20: no verdict
    await traffic(20, 2)
    await h.service.workers.evaluator.tick()
    expect(await state()).toBe('PENDING')
    h.clock.advance(4 * MINUTE)
    await h.service.workers.evaluator.tick()
    expect(await state()).toBe('PENDING')
    h.clock.advance(1 * MINUTE + 1_000)
    await h.service.workers.evaluator.tick()
    expect(await state()).toBe('FIRING')
    const detail = await h.call<MonitorView>('GET', `/v1/monitors/${monitor.id}`, h.tokens.alice)
    expect(detail.body.lastTransition).toMatchObject({
      from: 'PENDING',
      to: 'FIRING',
      observation: { version: 1, value: 2, threshold: 1, samples: 30 },
    })
  })

  it('asks for a retrain once when it fires', async () => {
    const requests = await eventually(async () => {
      const answer = await h.call<{ items: RetrainRequestView[] }>(
        'GET',
        '/v1/monitors/retrains?model=m',
        h.tokens.alice,
      )
      const mine = answer.body.items.filter((r) => r.monitorId === monitor.id)
      return mine.length > 0 ? mine : undefined
    })
    expect(requests).toHaveLength(1)
    expect(requests[0]).toMatchObject({
      model: 'm',
      version: 1,
      trigger: 'monitor',
      evidence: { metric: 'mae', value: 2, threshold: 1, samples: 30, forSeconds: 300 },
    })
    // The event on the model's subject is the published contract.
    const events = await h.store.load(`${h.names.feedback.root}.model.m`)
    const retrains = events.filter((e) => e.type === 'RetrainRequested')
    expect(retrains.map((e) => (e.data as { monitorId?: string }).monitorId)).toContain(monitor.id)
  })

  it('resolves when quality recovers', async () => {
    h.clock.advance(MINUTE)
    await traffic(300, 0.1)
    await h.service.workers.evaluator.tick()
    expect(await state()).toBe('RESOLVED')
    await h.service.workers.evaluator.tick()
    expect(await state()).toBe('RESOLVED')
  })

  it('notified its webhook once per transition, signed, retrying the 500', async () => {
    const accepted = await eventually(async () => {
      const ok = receiver.accepted()
      return ok.length === 3 ? ok : undefined
    })
    expect(receiver.attempts.filter((a) => a.status === 500)).toHaveLength(1)
    const bodies = accepted.map(
      (a) => JSON.parse(a.body) as { from: string; to: string; eventId: string },
    )
    // Each transition is its own delivery: the one that got the 500 arrives after its retry,
    // possibly behind later ones, so the set is what is promised, not the order.
    expect(bodies.map((b) => `${b.from}→${b.to}`).sort()).toEqual(
      ['OK→PENDING', 'PENDING→FIRING', 'FIRING→RESOLVED'].sort(),
    )
    expect(new Set(bodies.map((b) => b.eventId)).size).toBe(3)
    for (const delivery of accepted) {
      const timestamp = delivery.headers['x-argmax-timestamp'] as string
      const expected = createHmac('sha256', monitor.webhook!.secret!)
        .update(`${timestamp}.${delivery.body}`)
        .digest('hex')
      expect(delivery.headers['x-argmax-signature']).toBe(`v1=${expected}`)
    }
    // Nothing more arrives.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(receiver.accepted()).toHaveLength(3)
  })

  it('exports the quality as Prometheus gauges with the model owner', async () => {
    const metrics = await h.service.app.inject({ method: 'GET', url: '/metrics' })
    expect(metrics.body).toMatch(/model_mae_score\{[^}]*model_name="m"[^}]*\} [0-9.]+/)
    const line = metrics.body.split('\n').find((l) => l.startsWith('model_mae_score{'))!
    expect(line).toContain('version="1"')
    expect(line).toContain('user_id="alice"')
    expect(metrics.body).toMatch(/model_r2_score\{/)
    expect(metrics.body).toMatch(/model_rmse_score\{/)
  })

  it('deletes a monitor: it is gone and no longer evaluated', async () => {
    const deleted = await h.call('DELETE', `/v1/monitors/${monitor.id}`, h.tokens.bob)
    expect(deleted.status).toBe(404)
    expect((await h.call('DELETE', `/v1/monitors/${monitor.id}`, h.tokens.alice)).status).toBe(200)
    await h.settle()
    expect((await h.call('GET', `/v1/monitors/${monitor.id}`, h.tokens.alice)).status).toBe(404)
  })
})
