import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { eventually, stackEndpoints } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MonitorView, QualityView } from '../../src/api/contract.ts'
import { regressionSignature, startHarness, type Harness } from '../support/harness.ts'

const DOC = fileURLToPath(new URL('../../../../docs/analytics.md', import.meta.url))
const MINUTE = 60_000

/** Every ```sql block of docs/analytics.md, with its heading. */
function documentedQueries(): Array<{ title: string; sql: string }> {
  const text = readFileSync(DOC, 'utf8')
  const queries: Array<{ title: string; sql: string }> = []
  let title = ''
  const pattern = /^### (.+)$|```sql\n([\s\S]*?)```/gm
  for (const match of text.matchAll(pattern)) {
    if (match[1]) title = match[1]
    else queries.push({ title, sql: match[2]! })
  }
  return queries
}

/** `clickhouse-client` as the analyst: read-only, limited, the `argmax` database only. */
function asAnalyst(sql: string): Promise<Array<Record<string, unknown>>> {
  const { clickhouseNativePort, clickhouseAnalystUser, clickhouseAnalystPassword } =
    stackEndpoints()
  return new Promise((resolve, reject) => {
    execFile(
      'clickhouse-client',
      [
        '--host=127.0.0.1',
        `--port=${clickhouseNativePort}`,
        `--user=${clickhouseAnalystUser}`,
        `--password=${clickhouseAnalystPassword}`,
        '--database=argmax',
        '--format=JSONEachRow',
        `--query=${sql}`,
      ],
      { timeout: 60_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${stderr || error.message}\n${sql}`))
        else
          resolve(
            stdout
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as Record<string, unknown>),
          )
      },
    )
  })
}

describe('docs/analytics.md: every query, as the analyst, against real data', () => {
  let h: Harness
  const model = `movies-${randomBytes(4).toString('hex')}`
  const queries = documentedQueries()
  const results = new Map<number, Array<Record<string, unknown>>>()
  let monitorId = ''

  beforeAll(async () => {
    // The platform's own database: the analyst may read nothing else.
    h = await startHarness({
      clickhouseDatabase: 'argmax',
      start: new Date(Date.now() - 30 * MINUTE),
      feedback: { eventsSink: 'embedded' },
    })
    const signature = regressionSignature(
      [
        { name: 'budget', type: 'FP32' },
        { name: 'Major Genre', type: 'BYTES' },
      ],
      'IMDB Rating',
    )
    for (const version of [1, 2]) {
      await h.registerModel({
        model,
        version,
        ownerId: 'alice',
        task: 'regression',
        signature,
        metrics: { mae: 0.6 },
        lineage: { datasetId: 'ds-1', datasetVersionId: `dsv-${version}` },
        createModel: version === 1,
      })
    }
    await h.release(model, { stable: 1 })
    await h.settle()
    const genres = ['Drama', 'Comedy', 'Action']
    const ids = await h.logPredictions(
      model,
      1,
      Array.from({ length: 300 }, (_, i) => ({
        inputs: { budget: i * 1e5, 'Major Genre': genres[i % 3]! },
        prediction: 6 + (i % 3),
        at: new Date(h.clock.now().getTime() - (i % 20) * MINUTE),
      })),
    )
    h.clock.advance(MINUTE)
    await h.call('POST', '/v1/feedback', h.tokens.alice, {
      labels: ids
        .slice(0, 200)
        .map((predictionId, i) => ({ predictionId, value: 5 + (i % 5) * 0.5 })),
    })
    h.clock.advance(MINUTE)
    // Ten labels corrected.
    await h.call('POST', '/v1/feedback', h.tokens.alice, {
      labels: ids.slice(0, 10).map((predictionId) => ({ predictionId, value: 9 })),
    })
    // A monitor fires, then an operator releases version 2.
    const created = await h.call<{ item: MonitorView }>('POST', '/v1/monitors', h.tokens.alice, {
      model,
      name: 'MAE above 0.5',
      rule: {
        metric: 'mae',
        comparison: '>',
        threshold: 0.5,
        window: '1h',
        forSeconds: 60,
        minLabels: 10,
      },
    })
    expect(created.status).toBe(201)
    monitorId = created.body.item.id
    await eventually(async () => {
      const [row] = await h.service.analytics.query<{ n: string }>(
        `SELECT count() AS n FROM feedback WHERE model = '${model}'`,
      )
      return Number(row!.n) === 200 ? true : undefined
    })
    await h.service.workers.evaluator.tick()
    h.clock.advance(2 * MINUTE)
    await h.service.workers.evaluator.tick()
    h.clock.advance(MINUTE)
    await h.release(model, { stable: 2 }, { stable: 1 })
    // Every domain event of the story reached domain_events.
    await eventually(
      async () => {
        const types = await h.service.analytics.query<{ type: string }>(
          `SELECT DISTINCT type FROM domain_events WHERE model = '${model}'`,
        )
        const seen = new Set(types.map((t) => t.type))
        return [
          'ModelCreated',
          'ModelVersionRegistered',
          'ReleaseChanged',
          'MonitorCreated',
          'MonitorStateChanged',
          'RetrainRequested',
        ].every((t) => seen.has(t))
          ? true
          : undefined
      },
      30_000,
      'the domain events in ClickHouse',
    )
    await eventually(async () => {
      const [row] = await h.service.analytics.query<{ n: string }>(
        `SELECT count() AS n FROM domain_events WHERE model = '${model}' AND type = 'ReleaseChanged'`,
      )
      return Number(row!.n) === 2 ? true : undefined
    })
    for (const [i, query] of queries.entries()) {
      results.set(i + 1, await asAnalyst(query.sql.replaceAll(`'movies'`, `'${model}'`)))
    }
  }, 180_000)
  afterAll(() => h?.stop())

  it('documents a dozen queries or more, and each one runs as the analyst', () => {
    expect(queries.length).toBeGreaterThanOrEqual(12)
    expect(results.size).toBe(queries.length)
  })

  it('computes live quality in SQL as the API does', async () => {
    const [sql] = results.get(1)!
    const api = await h.call<QualityView>(
      'GET',
      `/v1/quality/${model}?window=1d&version=1`,
      h.tokens.alice,
    )
    expect(Number(sql!.labels)).toBe(200)
    expect(Number(sql!.mae)).toBeCloseTo(api.body.versions[0]!.metrics.mae!, 9)
    const [coverage] = results.get(2)!.filter((r) => Number(r.predictions) > 0)
    expect(Number(coverage!.coverage)).toBeCloseTo(200 / 300, 4)
  })

  it('shows every value a corrected label had, the last one current', () => {
    const corrected = results.get(6)!
    expect(corrected).toHaveLength(10)
    for (const row of corrected) {
      expect(Number(row.receipts)).toBe(2)
      expect(Number(row.current_value)).toBe(9)
      expect((row.values_in_order as number[]).at(-1)).toBe(9)
    }
  })

  it('breaks errors down by an input read from the JSON', () => {
    expect(
      results
        .get(5)!
        .map((r) => r.genre)
        .sort(),
    ).toEqual(['Action', 'Comedy', 'Drama'])
  })

  it('answers "who released what, when, after which monitor fired" in one query', () => {
    const rows = results.get(10)!
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      model,
      monitor_id: monitorId,
      released_by: 'alice',
      stable_version: 2,
    })
    expect(String(rows[0]!.why)).toMatch(/mae .* > 0.5 for 60 s/)
    // The model's default quality monitor (MAE above 1.2 × 0.6) went PENDING too.
    const history = results.get(11)!.filter((r) => r.monitor_id === monitorId)
    expect(history.map((r) => `${r.from_state}→${r.to_state}`)).toEqual([
      'OK→PENDING',
      'PENDING→FIRING',
    ])
    expect(results.get(12)!.map((r) => r.trigger)).toEqual(['monitor'])
    expect(
      results.get(13)!.map((r) => [r.model_version, r.dataset_version_id, r.test_mae]),
    ).toEqual([
      [1, 'dsv-1', 0.6],
      [2, 'dsv-2', 0.6],
    ])
  })

  it('reads the prediction log itself', () => {
    expect(results.get(8)![0]).toMatchObject({
      caller: 'app',
      variant: 'stable',
      predictions: '300',
    })
    expect(results.get(14)!.length).toBeGreaterThan(0)
  })
})
