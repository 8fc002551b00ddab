import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DriftView } from '../../src/api/contract.ts'
import { startDataset } from '../support/dataset.ts'
import { regressionSignature, startHarness, type Harness } from '../support/harness.ts'

const MINUTE = 60_000

function random(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** Standard normal by Box–Muller. */
function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
}

const CATEGORIES = ['action', 'comedy', 'drama', 'horror']

/** One row of the world: `shift` moves `budget` and turns the genre mix around. */
function row(rand: () => number, shift: boolean) {
  const budget = 50 + 20 * normal(rand) + (shift ? 35 : 0)
  const runtime = 80 + 60 * rand()
  const u = rand()
  const weights = shift ? [0.1, 0.1, 0.2, 0.6] : [0.4, 0.3, 0.2, 0.1]
  let acc = 0
  const genre = CATEGORIES.find((_, i) => (acc += weights[i]!) > u) ?? 'horror'
  const rating = 4 + budget / 40 + runtime / 100 + normal(rand) * 0.3
  return { budget, runtime, genre: rand() < 0.02 ? null : genre, rating }
}

describe('drift: PSI against the training profile', () => {
  let h: Harness
  let dataset: Awaited<ReturnType<typeof startDataset>>

  beforeAll(async () => {
    h = await startHarness({ start: new Date('2026-12-01T12:00:00Z') })
    dataset = await startDataset(h)
    const rand = random(7)
    const lines = ['budget,runtime,genre,rating']
    for (let i = 0; i < 5_000; i++) {
      const r = row(rand, false)
      lines.push(
        `${r.budget.toFixed(3)},${r.runtime.toFixed(2)},${r.genre ?? ''},${r.rating.toFixed(4)}`,
      )
    }
    const { datasetId, versionId } = await dataset.uploadCsv(
      h.tokens.alice,
      'films',
      `${lines.join('\n')}\n`,
    )
    const signature = regressionSignature(
      [
        { name: 'budget', type: 'FP32' },
        { name: 'runtime', type: 'FP32' },
        { name: 'genre', type: 'BYTES' },
      ],
      'rating',
    )
    for (const version of [1, 2]) {
      await h.registerModel({
        model: 'films',
        version,
        ownerId: 'alice',
        task: 'regression',
        signature,
        lineage: { datasetId, datasetVersionId: versionId },
        createModel: version === 1,
      })
    }
    await h.release('films', { stable: 1, canary: { version: 2, percent: 50 } })
    await h.settle()
    // Version 1 sees traffic like its training data; version 2 sees shifted budgets and genres.
    const now = h.clock.now().getTime()
    for (const version of [1, 2]) {
      const live = Array.from({ length: 4_000 }, () => row(rand, version === 2))
      await h.logPredictions(
        'films',
        version,
        live.map((r) => ({
          // As the gateway logs them: a missing category is "" (what the model is sent).
          inputs: { budget: r.budget, runtime: r.runtime, genre: r.genre ?? '' },
          prediction: r.rating,
          at: new Date(now - rand() * 50 * MINUTE),
        })),
      )
    }
  }, 120_000)
  afterAll(async () => {
    await dataset?.service.stop()
    await h?.stop()
  })

  it('stays under 0.1 for unshifted traffic, inputs and prediction alike', async () => {
    const answer = await h.call<DriftView>(
      'GET',
      '/v1/quality/films/drift?window=1h&version=1',
      h.tokens.alice,
    )
    expect(answer.status).toBe(200)
    const [v1] = answer.body.versions
    expect(v1!.predictions).toBe(4_000)
    expect(v1!.baseline!.rows).toBe(5_000)
    const psi = Object.fromEntries(v1!.features.map((f) => [f.feature, f.psi]))
    expect(Object.keys(psi).sort()).toEqual(['budget', 'genre', 'runtime'])
    for (const value of Object.values(psi)) expect(value).toBeLessThan(0.1)
    expect(v1!.prediction!.feature).toBe('rating')
    expect(v1!.prediction!.psi).toBeLessThan(0.1)
    expect(v1!.maxPsi).toBeLessThan(0.1)
  })

  it('pushes PSI over 0.2 on the shifted inputs only', async () => {
    const answer = await h.call<DriftView>(
      'GET',
      '/v1/quality/films/drift?window=1h&version=2',
      h.tokens.alice,
    )
    const [v2] = answer.body.versions
    const psi = Object.fromEntries(v2!.features.map((f) => [f.feature, f.psi!]))
    expect(psi.budget).toBeGreaterThan(0.2)
    expect(psi.genre).toBeGreaterThan(0.2)
    expect(psi.runtime).toBeLessThan(0.1)
    // Budgets drive the rating, so the prediction drifts too.
    expect(v2!.prediction!.psi).toBeGreaterThan(0.2)
    const genre = v2!.features.find((f) => f.feature === 'genre')!
    expect(genre.kind).toBe('categorical')
    expect(genre.bins.map((b) => b.bin)).toEqual(
      expect.arrayContaining(['action', 'horror', '(missing)']),
    )
  })

  it('reports the released versions when no version is named', async () => {
    const answer = await h.call<DriftView>('GET', '/v1/quality/films/drift', h.tokens.analyst)
    expect(answer.body.versions.map((v) => v.version)).toEqual([1, 2])
    expect((await h.call('GET', '/v1/quality/films/drift', h.tokens.bob)).status).toBe(404)
  })
})
