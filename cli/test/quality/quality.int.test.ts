import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
// The feedback service in this process, on a real port, against the test kit's servers.
import {
  regressionSignature,
  startHarness,
  type Harness,
} from '../../../services/feedback/test/support/harness.ts'
import type { QualityView } from '@argmax/feedback-service/client'
import { registerQualityCommands } from '../../src/quality/index.ts'
import { eventually } from '@argmax/testkit'

const MINUTE = 60_000

describe('argmax quality and argmax monitors against the feedback service', () => {
  let h: Harness

  beforeAll(async () => {
    h = await startHarness({ listen: true, start: new Date('2026-12-01T12:00:00Z') })
    await h.registerModel({
      model: 'movies',
      version: 1,
      ownerId: 'alice',
      task: 'regression',
      signature: regressionSignature([{ name: 'budget', type: 'FP32' }]),
      metrics: { mae: 0.65, rmse: 0.8, r2: 0.7 },
    })
    await h.release('movies', { stable: 1 })
    await h.settle()
    const now = h.clock.now().getTime()
    // 120 predictions over the last hour, each off by a quarter: MAE 0.25, every one labelled.
    const rows = Array.from({ length: 120 }, (_, i) => ({
      inputs: { budget: 10 + i },
      prediction: 3 + (i % 5) + 0.25,
      at: new Date(now - (i + 1) * 0.4 * MINUTE),
    }))
    const ids = await h.logPredictions('movies', 1, rows)
    const sent = await h.call('POST', '/v1/feedback', h.tokens.alice, {
      labels: ids.map((predictionId, i) => ({ predictionId, value: 3 + (i % 5) })),
    })
    expect(sent.status).toBe(202)
    await eventually(
      async () => {
        const [row] = await h.service.analytics.query<{ n: string }>(
          'SELECT count() AS n FROM feedback',
        )
        return Number(row!.n) === ids.length ? true : undefined
      },
      60_000,
      'every label in ClickHouse',
    )
  }, 180_000)
  afterAll(() => h?.stop())

  async function run(token: string, ...args: string[]): Promise<string[]> {
    const program = new Command().exitOverride()
    registerQualityCommands(program, { apiUrl: h.service.url!, token, json: false })
    const printed: string[] = []
    const log = vi
      .spyOn(console, 'log')
      .mockImplementation((line: string) => void printed.push(line))
    try {
      await program.parseAsync(['node', 'argmax', ...args])
    } finally {
      log.mockRestore()
    }
    return printed
  }

  it('prints the API answer as JSON for scripts', async () => {
    const [printed] = await run(h.tokens.alice, 'quality', 'movies', '--window', '1h', '--json')
    const cli = JSON.parse(printed!) as QualityView
    const api = await h.call<QualityView>('GET', '/v1/quality/movies?window=1h', h.tokens.alice)
    expect(cli.versions).toEqual(api.body.versions)
    expect(cli.versions[0]!.labelled).toBe(120)
    expect(cli.versions[0]!.metrics.mae).toBeCloseTo(0.25, 9)
  })

  it('prints a table per version and a chart of the metric over the window', async () => {
    const text = (await run(h.tokens.alice, 'quality', 'movies', '--buckets', '12')).join('\n')
    expect(text).toMatch(/^movies — regression, window 1h/)
    // The version row: 120 predictions, all labelled, MAE 0.25 next to the test MAE.
    expect(text).toMatch(/1 \(stable\)\s+120\s+120\s+100\.0%\s+\S+\s+0\.2500/)
    expect(text).toContain('mae per 300s bucket (green = version 1')
    expect(text).toContain('0.250')
  })

  it('keeps other users out: the model is not found for bob', async () => {
    await expect(run(h.tokens.bob, 'quality', 'movies', '--json')).rejects.toThrow(/not found/i)
  })

  it('refuses an unknown window before calling the service', async () => {
    await expect(run(h.tokens.alice, 'quality', 'movies', '--window', '2h')).rejects.toThrow(
      '--window must be one of 5m, 1h, 1d, release',
    )
  })

  it('lists the default monitor made on the first release, with its state', async () => {
    const [json] = await run(h.tokens.alice, 'monitors', 'list', '--model', 'movies', '--json')
    const answer = JSON.parse(json!) as {
      items: Array<{ model: string; state: string; isDefault: boolean }>
    }
    expect(answer.items.length).toBeGreaterThan(0)
    expect(answer.items.every((m) => m.model === 'movies' && m.isDefault)).toBe(true)
    const text = (await run(h.tokens.alice, 'monitors', 'list', '--model', 'movies')).join('\n')
    expect(text).toMatch(/mae > 1\.2× test/)
  })
})
