import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { RetrainRequestView } from '../../src/api/contract.ts'
import { regressionSignature, startHarness, type Harness } from '../support/harness.ts'
import { DEPLOY, PROMETHEUS_DIR, startMonitoring, type Monitoring } from '../support/monitoring.ts'
import { eventually } from '@argmax/testkit'

const rules = () =>
  readdirSync(join(PROMETHEUS_DIR, 'rules')).map((f) => join(PROMETHEUS_DIR, 'rules', f))

describe('the shipped Prometheus rules, checked by promtool', () => {
  it('pass promtool check rules and promtool test rules', () => {
    const checked = execFileSync('promtool', ['check', 'rules', ...rules()], { encoding: 'utf8' })
    expect(checked).toMatch(/SUCCESS: 3 rules found/)
    const tested = execFileSync(
      'promtool',
      ['test', 'rules', join(PROMETHEUS_DIR, 'tests', 'model-quality.test.yml')],
      {
        encoding: 'utf8',
      },
    )
    expect(tested).toMatch(/SUCCESS/)
  })

  it('ship a scrape job for every service and a valid Alertmanager route', () => {
    execFileSync('promtool', ['check', 'config', join(PROMETHEUS_DIR, 'prometheus.yml')])
    execFileSync('amtool', ['check-config', join(PROMETHEUS_DIR, 'alertmanager.yml')])
    const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string }>
    }
    expect(config.scrape_configs.map((job) => job.job_name).sort()).toEqual([
      'dataset',
      'feedback',
      'inference',
      'registry',
      'training',
    ])
  })
})

describe('a real Prometheus and Alertmanager against the feedback service', () => {
  let h: Harness
  let monitoring: Monitoring

  beforeAll(async () => {
    h = await startHarness({ listen: true })
    await h.registerModel({
      model: 'churn',
      version: 3,
      ownerId: 'alice',
      task: 'regression',
      signature: regressionSignature([{ name: 'x', type: 'FP32' }]),
      metrics: { mae: 0.3 },
    })
    await h.release('churn', { stable: 3 })
    await h.settle()
    // Live MAE 0.9, far above seed 004's 0.45; R² near 1, above its 0.75.
    const ids = await h.logPredictions(
      'churn',
      3,
      Array.from({ length: 100 }, (_, i) => ({
        inputs: { x: i },
        prediction: i + 0.9,
        at: h.clock.now(),
      })),
    )
    await h.call('POST', '/v1/feedback', h.tokens.alice, {
      labels: ids.map((predictionId, i) => ({ predictionId, value: i })),
    })
    await eventually(async () => {
      const [row] = await h.service.analytics.query<{ n: string }>(
        'SELECT count() AS n FROM feedback',
      )
      return Number(row!.n) === 100 ? true : undefined
    })
    await h.service.workers.evaluator.tick()
    const url = new URL(h.service.url!)
    monitoring = await startMonitoring({
      targets: { feedback: url.host },
      feedbackUrl: h.service.url!,
      feedbackToken: await h.mint('system:alertmanager', ['admin']),
      forSeconds: 2,
    })
  }, 120_000)
  afterAll(async () => {
    await monitoring?.stop()
    await h?.stop()
  })

  it('scrapes the service and sees the quality gauges with their labels', async () => {
    await eventually(
      async () => {
        const up = await monitoring.query('up{job="feedback"}')
        return up[0]?.value[1] === '1' ? true : undefined
      },
      30_000,
      'the feedback service scraped',
    )
    const mae = await eventually(async () => {
      const found = await monitoring.query('model_mae_score{model_name="churn"}')
      return found.length > 0 ? found : undefined
    }, 30_000)
    expect(mae[0]!.metric).toMatchObject({
      model_name: 'churn',
      version: '3',
      user_id: 'alice',
      job: 'feedback',
    })
    expect(Number(mae[0]!.value[1])).toBeCloseTo(0.9, 9)
  })

  it('fires ModelDriftDetected, and Alertmanager delivers it to the webhook with its credential, which requests a retrain', async () => {
    await eventually(
      async () => {
        const firing = await monitoring.query(
          'ALERTS{alertname="ModelDriftDetected", alertstate="firing"}',
        )
        return firing.length > 0 ? true : undefined
      },
      60_000,
      'the alert firing',
    )
    const requests = await eventually(
      async () => {
        const answer = await h.call<{ items: RetrainRequestView[] }>(
          'GET',
          '/v1/monitors/retrains?model=churn',
          h.tokens.alice,
        )
        const fromAlerts = answer.body.items.filter((r) => r.trigger === 'alertmanager')
        return fromAlerts.length > 0 ? fromAlerts : undefined
      },
      60_000,
      'a RetrainRequested from Alertmanager',
    )
    expect(requests).toHaveLength(1)
    expect(requests[0]).toMatchObject({
      model: 'churn',
      version: 3,
      reason: 'churn version 3: mae is 0.900',
      evidence: { alertname: 'ModelDriftDetected', labels: { metric: 'mae', user_id: 'alice' } },
    })
    const events = await h.store.load(`${h.names.feedback.root}.model.churn`)
    expect(events.filter((e) => e.type === 'RetrainRequested').map((e) => e.actor)).toContain(
      'system:alertmanager',
    )
  })

  it('refuses the webhook without an admin credential', async () => {
    const payload = { status: 'firing', alerts: [] }
    expect(
      (await h.call('POST', '/v1/monitors/alertmanager', h.tokens.alice, payload)).status,
    ).toBe(403)
    const anonymous = await fetch(`${h.service.url}/v1/monitors/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    })
    expect(anonymous.status).toBe(401)
  })

  it('evaluates every PromQL expression of the Grafana dashboard', async () => {
    const dashboard = JSON.parse(
      readFileSync(join(DEPLOY, 'grafana', 'argmax-model-quality.json'), 'utf8'),
    ) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> }
    const expressions = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
    )
    expect(expressions.length).toBeGreaterThan(15)
    const concrete = (expr: string) =>
      expr.replaceAll('$model', '.*').replaceAll('$user', '.*').replaceAll('$__rate_interval', '1m')
    for (const { panel, expr } of expressions) {
      await expect(monitoring.query(concrete(expr)), panel).resolves.toBeDefined()
    }
    // The per-model and per-user panels see the churn model.
    expect(
      await monitoring.query(
        concrete('avg by (user_id) (model_mae_score{model_name=~"$model", user_id=~"$user"})'),
      ),
    ).toEqual([expect.objectContaining({ metric: { user_id: 'alice' } })])
  })
})
