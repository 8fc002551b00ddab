import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  fakeRun,
  publishRun,
  registeredVersion,
  startHarness,
  type Harness,
} from '../support/harness.ts'

interface Problem {
  detail: string
  errors?: Array<{ field: string; message: string }>
}

async function registerRuns(h: Harness, model: string, metrics: Array<Record<string, number>>) {
  for (const [index, values] of metrics.entries()) {
    await publishRun(h, await fakeRun(h, { model, ownerId: 'alice', metrics: values }))
    await registeredVersion(h, model, index + 1, h.tokens.alice)
  }
}

describe('models', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.stop())

  it('creates under an Idempotency-Key: a retry answers the same model, another body 422, another key 409', async () => {
    const body = {
      name: 'ratings',
      description: 'IMDB ratings',
      tags: ['demo', 'films'],
      task: 'regression',
    }
    const key = { 'idempotency-key': 'create-ratings' }
    const created = await h.call<{ model: { name: string; ownerId: string; origin: string } }>(
      'POST',
      '/v1/models',
      h.tokens.alice,
      body,
      key,
    )
    expect(created.status).toBe(201)
    expect(created.body.model).toMatchObject({ name: 'ratings', ownerId: 'alice', origin: 'user' })
    expect((await h.call('POST', '/v1/models', h.tokens.alice, body, key)).status).toBe(201)
    const reused = await h.call<Problem>(
      'POST',
      '/v1/models',
      h.tokens.alice,
      { ...body, tags: [] },
      key,
    )
    expect(reused.status).toBe(422)
    const taken = await h.call<Problem>('POST', '/v1/models', h.tokens.bob, body, {
      'idempotency-key': 'bobs',
    })
    expect(taken.status).toBe(409)
    expect(taken.body.detail).toContain('model names are unique')
  })

  it('refuses names that cannot be /v2/models/{name}, naming the field', async () => {
    for (const name of ['Movies', 'a_b', '-lead', 'x'.repeat(64), 'movies:predict']) {
      const refused = await h.call<Problem>('POST', '/v1/models', h.tokens.alice, { name })
      expect(refused.status, name).toBe(400)
      expect(refused.body.errors?.[0]?.field, name).toBe('/name')
    }
  })

  it('updates, lists by owner, soft deletes and restores', async () => {
    await h.call('POST', '/v1/models', h.tokens.bob, { name: 'bobs-model' })
    const updated = await h.call<{ model: { description: string; tags: string[] } }>(
      'PATCH',
      '/v1/models/ratings',
      h.tokens.alice,
      { description: 'better', tags: ['z', 'a'] },
    )
    expect(updated.body.model).toMatchObject({ description: 'better', tags: ['a', 'z'] })
    const mine = await h.call<{ items: Array<{ name: string }> }>(
      'GET',
      '/v1/models',
      h.tokens.alice,
    )
    expect(mine.body.items.map((m) => m.name)).toEqual(['ratings'])
    const all = await h.call<{ items: Array<{ name: string }> }>(
      'GET',
      '/v1/models',
      h.tokens.admin,
    )
    expect(all.body.items.map((m) => m.name).sort()).toEqual(['bobs-model', 'ratings'])

    const deleted = await h.call<{ position: number; deletedAt: string }>(
      'DELETE',
      '/v1/models/ratings',
      h.tokens.alice,
    )
    expect(deleted.status).toBe(200)
    expect(deleted.body.deletedAt).toBe(h.clock.now().toISOString())
    const listed = await h.call<{ items: unknown[] }>(
      'GET',
      `/v1/models?minPosition=${deleted.body.position}`,
      h.tokens.alice,
    )
    expect(listed.body.items).toEqual([])
    const withDeleted = await h.call<{ items: Array<{ deletedAt: string | null }> }>(
      'GET',
      '/v1/models?includeDeleted=true',
      h.tokens.alice,
    )
    expect(withDeleted.body.items[0]!.deletedAt).not.toBeNull()
    const changed = await h.call<Problem>('PATCH', '/v1/models/ratings', h.tokens.alice, {
      description: 'x',
    })
    expect(changed.status).toBe(409)
    const restored = await h.call<{ model: { deletedAt: string | null } }>(
      'POST',
      '/v1/models/ratings/restore',
      h.tokens.alice,
    )
    expect(restored.body.model.deletedAt).toBeNull()
  })
})

describe('versions: comparison, aliases, annotations, deletion', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
    await registerRuns(h, 'movies', [
      { rmse: 0.95, r2: 0.4 },
      { rmse: 0.88, r2: 0.5 },
      { r2: 0.3, accuracy: 0.7 },
      { rmse: 0.91, r2: 0.45 },
    ])
  })
  afterAll(() => h.stop())

  it('compares versions by a metric, best first, with every metric as a column', async () => {
    const byRmse = await h.call<{
      items: Array<{ version: number; metrics: Record<string, number> }>
      metrics: string[]
      compare: { metric: string; order: string; missing: number[] }
    }>('GET', '/v1/models/movies/versions?compare=rmse', h.tokens.alice)
    expect(byRmse.body.items.map((v) => v.version)).toEqual([2, 4, 1, 3])
    expect(byRmse.body.metrics).toEqual(['accuracy', 'r2', 'rmse'])
    expect(byRmse.body.compare).toEqual({ metric: 'rmse', order: 'asc', missing: [3] })
    const byR2 = await h.call<{ items: Array<{ version: number }>; compare: { order: string } }>(
      'GET',
      '/v1/models/movies/versions?compare=r2',
      h.tokens.alice,
    )
    expect(byR2.body.items.map((v) => v.version)).toEqual([2, 4, 1, 3])
    expect(byR2.body.compare.order).toBe('desc')
    const newest = await h.call<{ items: Array<{ version: number }>; compare: null }>(
      'GET',
      '/v1/models/movies/versions',
      h.tokens.alice,
    )
    expect(newest.body.items.map((v) => v.version)).toEqual([4, 3, 2, 1])
    expect(newest.body.compare).toBeNull()
  })

  it('moves an alias atomically, keeps its history, looks versions up by alias and by latest', async () => {
    const set = await h.call<{ alias: { alias: string; version: number } }>(
      'PUT',
      '/v1/models/movies/aliases/challenger',
      h.tokens.alice,
      { version: 2 },
    )
    expect(set.status).toBe(200)
    expect(set.body.alias).toMatchObject({ alias: 'challenger', version: 2 })
    await h.call('PUT', '/v1/models/movies/aliases/challenger', h.tokens.alice, { version: 4 })
    const byAlias = await h.call<{ version: number; aliases: string[] }>(
      'GET',
      '/v1/models/movies/versions/challenger',
      h.tokens.alice,
    )
    expect(byAlias.body.version).toBe(4)
    expect(byAlias.body.aliases).toEqual(['challenger', 'latest'])
    const latest = await h.call<{ version: number }>(
      'GET',
      '/v1/models/movies/versions/latest',
      h.tokens.alice,
    )
    expect(latest.body.version).toBe(4)
    const history = await h.call<{
      items: Array<{ version: number | null; previous: number | null; actor: string }>
    }>('GET', '/v1/models/movies/aliases/challenger/history', h.tokens.alice)
    expect(history.body.items.map((e) => [e.version, e.previous, e.actor])).toEqual([
      [4, 2, 'alice'],
      [2, null, 'alice'],
    ])
    const unknown = await h.call<Problem>(
      'GET',
      '/v1/models/movies/versions/nobody',
      h.tokens.alice,
    )
    expect(unknown.status).toBe(404)
    const aliases = await h.call<{
      items: Array<{ alias: string; version: number; computed: boolean }>
    }>('GET', '/v1/models/movies/aliases', h.tokens.alice)
    expect(aliases.body.items).toEqual([
      expect.objectContaining({ alias: 'challenger', version: 4, computed: false }),
      expect.objectContaining({ alias: 'latest', version: 4, computed: true }),
    ])
  })

  it('annotates a version (versions never change; what is learned later accumulates)', async () => {
    const first = await h.call<{
      annotation: { id: string; kind: string; text: string; annotatedBy: string }
    }>(
      'POST',
      '/v1/models/movies/versions/2/annotations',
      h.tokens.alice,
      { kind: 'evaluation', text: 'beats version 1 on the 2026 holdout', data: { rmse: 0.87 } },
      { 'idempotency-key': 'eval-2' },
    )
    expect(first.status).toBe(201)
    expect(first.body.annotation).toMatchObject({ kind: 'evaluation', annotatedBy: 'alice' })
    const retry = await h.call<{ annotation: { id: string } }>(
      'POST',
      '/v1/models/movies/versions/2/annotations',
      h.tokens.alice,
      { kind: 'evaluation', text: 'beats version 1 on the 2026 holdout', data: { rmse: 0.87 } },
      { 'idempotency-key': 'eval-2' },
    )
    expect(retry.body.annotation.id).toBe(first.body.annotation.id)
    await h.call('POST', '/v1/models/movies/versions/2/annotations', h.tokens.admin, {
      text: 'approved',
    })
    const version = await h.call<{
      annotations: Array<{ text: string; annotatedBy: string }>
      metrics: Record<string, number>
    }>('GET', '/v1/models/movies/versions/2', h.tokens.alice)
    expect(version.body.annotations.map((a) => [a.text, a.annotatedBy])).toEqual([
      ['beats version 1 on the 2026 holdout', 'alice'],
      ['approved', 'root'],
    ])
    expect(version.body.metrics).toEqual({ rmse: 0.88, r2: 0.5 })
  })

  it('soft deletes a version (its aliases go with it) and restores it', async () => {
    const deleted = await h.call<{ position: number; version: number }>(
      'DELETE',
      '/v1/models/movies/versions/challenger',
      h.tokens.alice,
    )
    expect(deleted.status).toBe(200)
    expect(deleted.body.version).toBe(4)
    const listed = await h.call<{ items: Array<{ version: number }> }>(
      'GET',
      `/v1/models/movies/versions?minPosition=${deleted.body.position}`,
      h.tokens.alice,
    )
    expect(listed.body.items.map((v) => v.version)).toEqual([3, 2, 1])
    const latest = await h.call<{ version: number }>(
      'GET',
      '/v1/models/movies/versions/latest',
      h.tokens.alice,
    )
    expect(latest.body.version).toBe(3)
    expect(
      (await h.call('GET', '/v1/models/movies/versions/challenger', h.tokens.alice)).status,
    ).toBe(404)
    const stillThere = await h.call<{ status: string }>(
      'GET',
      '/v1/models/movies/versions/4',
      h.tokens.alice,
    )
    expect(stillThere.body.status).toBe('deleted')
    const restored = await h.call('POST', '/v1/models/movies/versions/4/restore', h.tokens.alice)
    expect(restored.status).toBe(200)
  })
})
