import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import { parseS3Uri, type Release } from '@argmax/contracts'
import { MIXED_SIGNATURE } from '@argmax/testkit/onnx-models'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { releaseSubject } from '../../src/streams.ts'
import {
  fakeRun,
  publishRun,
  registeredVersion,
  startHarness,
  testModels,
  type Harness,
} from '../support/harness.ts'

interface ReleaseAnswer {
  position: number
  release: {
    release: Release | null
    kind: string
    reason: string
    changedBy: string
    sequence: number
  }
}
interface Problem {
  detail: string
  errors?: Array<{ field: string; message: string }>
}

/** Registers versions 1…n of `model` for `owner` through training's events. */
async function registerVersions(
  h: Harness,
  model: string,
  owner: string,
  signatures: Array<'linear' | 'mixed'>,
): Promise<void> {
  const { mixed } = await testModels()
  for (const [index, kind] of signatures.entries()) {
    const run = await fakeRun(h, {
      model,
      ownerId: owner,
      metrics: { rmse: 1 - index / 10 },
      ...(kind === 'mixed' ? { onnx: mixed, signature: MIXED_SIGNATURE } : {}),
    })
    await publishRun(h, run)
    await registeredVersion(h, model, index + 1)
  }
}

describe('releases', () => {
  let h: Harness
  const put = (model: string, body: object, token = h.tokens.alice) =>
    h.call<ReleaseAnswer & Problem>('PUT', `/v1/models/${model}/release`, token, body)
  const rollback = (model: string, token = h.tokens.alice) =>
    h.call<ReleaseAnswer & Problem>('POST', `/v1/models/${model}/release/rollback`, token, {
      reason: 'p99 latency doubled',
    })

  beforeAll(async () => {
    h = await startHarness()
    await registerVersions(h, 'movies', 'alice', ['linear', 'linear', 'linear', 'mixed'])
  })
  afterAll(() => h.stop())

  it('releases a version with who and why; champion follows the release', async () => {
    const set = await put('movies', { stable: 1, reason: 'first release' })
    expect(set.status, JSON.stringify(set.body)).toBe(200)
    expect(set.body.release).toMatchObject({
      release: { stable: 1 },
      kind: 'set',
      reason: 'first release',
      changedBy: 'alice',
    })
    const champion = await h.call<{ version: number; aliases: string[]; served: string[] }>(
      'GET',
      '/v1/models/movies/versions/champion',
      h.tokens.alice,
    )
    expect(champion.body).toMatchObject({ version: 1, served: ['stable'] })
    expect(champion.body.aliases).toContain('champion')
    // champion moves only with the release.
    const move = await h.call<Problem>(
      'PUT',
      '/v1/models/movies/aliases/champion',
      h.tokens.alice,
      {
        version: 2,
      },
    )
    expect(move.status).toBe(409)
    expect(move.body.detail).toContain('reserved')
  })

  it('refuses a canary outside 0–100 (400), an unknown version (404), a deleted one (409)', async () => {
    for (const percent of [101, -1]) {
      const bad = await put('movies', { stable: 1, canary: { version: 2, percent }, reason: 'x' })
      expect(bad.status).toBe(400)
      expect(bad.body.errors?.[0]?.field).toBe('/canary/percent')
    }
    const unknown = await put('movies', { stable: 9, reason: 'x' })
    expect(unknown.status).toBe(404)
    expect(unknown.body.detail).toBe('version movies/9 not found')

    await registerVersions(h, 'deletable', 'alice', ['linear', 'linear'])
    expect((await h.call('DELETE', '/v1/models/deletable/versions/2', h.tokens.alice)).status).toBe(
      200,
    )
    const deleted = await put('deletable', { stable: 2, reason: 'x' })
    expect(deleted.status).toBe(409)
    expect(deleted.body.detail).toContain('version 2 of deletable is deleted')
  })

  it('refuses a version whose artifact is not in storage (409)', async () => {
    await registerVersions(h, 'lost', 'alice', ['linear'])
    const version = await h.call<{ artifact: { uri: string } }>(
      'GET',
      '/v1/models/lost/versions/1',
      h.tokens.alice,
    )
    const { bucket, key } = parseS3Uri(version.body.artifact.uri)!
    await h.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
    const refused = await put('lost', { stable: 1, reason: 'x' })
    expect(refused.status).toBe(409)
    expect(refused.body.detail).toContain(`${version.body.artifact.uri} is not in storage`)
  })

  it('refuses a schema change against the serving stable unless declared breaking', async () => {
    await put('movies', { stable: 1, reason: 'back to one' })
    const changed = await put('movies', { stable: 4, reason: 'new features' })
    expect(changed.status).toBe(409)
    expect(changed.body.detail).toContain("input 'x1' is gone")
    expect(changed.body.detail).toContain('breaking: true')
    const canary = await put('movies', {
      stable: 1,
      canary: { version: 4, percent: 5 },
      reason: 'x',
    })
    expect(canary.status).toBe(409)
    const breaking = await put('movies', { stable: 4, reason: 'new features', breaking: true })
    expect(breaking.status).toBe(200)
    expect((await put('movies', { stable: 1, reason: 'undo', breaking: true })).status).toBe(200)
  })

  it('rolls back to the previous release exactly, one step per call', async () => {
    await registerVersions(h, 'steps', 'alice', ['linear', 'linear', 'linear'])
    const r1 = { stable: 1 }
    const r2 = { stable: 2, canary: { version: 3, percent: 12.5 }, shadow: 1 }
    const r3 = { stable: 3 }
    for (const release of [r1, r2, r3]) {
      expect((await put('steps', { ...release, reason: 'step' })).status).toBe(200)
    }
    const first = await rollback('steps')
    expect(first.status).toBe(200)
    expect(first.body.release).toMatchObject({
      release: r2,
      kind: 'rollback',
      reason: 'p99 latency doubled',
    })
    expect((await rollback('steps')).body.release.release).toEqual(r1)
    const none = await rollback('steps')
    expect(none.status).toBe(409)
    expect(none.body.detail).toContain('no earlier release')

    const history = await h.call<{
      items: Array<{ release: Release; previous: Release | null; kind: string; changedBy: string }>
    }>('GET', '/v1/models/steps/releases', h.tokens.alice)
    expect(history.body.items.map((c) => [c.kind, c.release])).toEqual([
      ['rollback', r1],
      ['rollback', r2],
      ['set', r3],
      ['set', r2],
      ['set', r1],
    ])
    expect(history.body.items.every((c) => c.changedBy === 'alice')).toBe(true)
  })

  it('concurrent release changes never interleave: each change follows the one before it', async () => {
    await registerVersions(h, 'busy', 'alice', ['linear', 'linear', 'linear'])
    const releases: Release[] = Array.from({ length: 12 }, (_, i) => ({
      stable: (i % 3) + 1,
      canary: { version: ((i + 1) % 3) + 1, percent: i },
    }))
    const answers = await Promise.all(
      releases.map((release, i) => put('busy', { ...release, reason: `change ${i}` })),
    )
    for (const answer of answers) expect([200, 409]).toContain(answer.status)
    const succeeded = answers.filter((a) => a.status === 200).length
    expect(succeeded).toBeGreaterThan(0)

    const events = await h.store.load(releaseSubject(h.names, 'busy'))
    expect(events).toHaveLength(succeeded)
    let before: Release | null = null
    for (const event of events) {
      const data = event.data as { release: Release; previous: Release | null }
      expect(data.previous).toEqual(before)
      before = data.release
    }
    const current = await h.call<{ release: Release }>(
      'GET',
      '/v1/models/busy/release',
      h.tokens.alice,
    )
    expect(current.body.release).toEqual(before)
  })

  it('a served version cannot be deleted (409)', async () => {
    await put('movies', { stable: 2, reason: 'two', breaking: true })
    const refused = await h.call<Problem>('DELETE', '/v1/models/movies/versions/2', h.tokens.alice)
    expect(refused.status).toBe(409)
    expect(refused.body.detail).toContain('served by the current release')
    const byAlias = await h.call<Problem>(
      'DELETE',
      '/v1/models/movies/versions/champion',
      h.tokens.alice,
    )
    expect(byAlias.status).toBe(409)
  })

  it('a deleted model serves nothing, refuses releases (409), and a rollback after restoring serves again', async () => {
    await registerVersions(h, 'gone', 'alice', ['linear'])
    expect((await put('gone', { stable: 1, reason: 'live' })).status).toBe(200)
    const deleted = await h.call<{ position: number }>('DELETE', '/v1/models/gone', h.tokens.alice)
    expect(deleted.status).toBe(200)
    const release = await h.call<{ release: Release | null; kind: string }>(
      'GET',
      `/v1/models/gone/release?minPosition=${deleted.body.position}`,
      h.tokens.alice,
    )
    expect(release.body).toMatchObject({ release: null, kind: 'model_deleted' })
    const refused = await put('gone', { stable: 1, reason: 'again' })
    expect(refused.status).toBe(409)
    expect(refused.body.detail).toBe('model gone is deleted: it cannot be released')

    expect((await h.call('POST', '/v1/models/gone/restore', h.tokens.alice)).status).toBe(200)
    const back = await rollback('gone')
    expect(back.status).toBe(200)
    expect(back.body.release.release).toEqual({ stable: 1 })
  })
})

describe('ownership of models and releases', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
    await registerVersions(h, 'private', 'alice', ['linear', 'linear'])
    await h.call('PUT', '/v1/models/private/release', h.tokens.alice, { stable: 1, reason: 'x' })
  })
  afterAll(() => h.stop())

  it("another user's model is 404 on every path, and absent from their listing", async () => {
    for (const [method, url, body] of [
      ['GET', '/v1/models/private'],
      ['GET', '/v1/models/private/versions'],
      ['GET', '/v1/models/private/versions/1'],
      ['GET', '/v1/models/private/versions/1/lineage'],
      ['GET', '/v1/models/private/release'],
      ['GET', '/v1/models/private/releases'],
      ['GET', '/v1/models/private/aliases'],
      ['PUT', '/v1/models/private/release', { stable: 2, reason: 'mine now' }],
      ['POST', '/v1/models/private/release/rollback', { reason: 'x' }],
      ['PATCH', '/v1/models/private', { description: 'x' }],
      ['DELETE', '/v1/models/private'],
      ['DELETE', '/v1/models/private/versions/2'],
      ['PUT', '/v1/models/private/aliases/mine', { version: 2 }],
      ['POST', '/v1/models/private/versions/1/annotations', { text: 'x' }],
    ] as const) {
      const answer = await h.call(method, url, h.tokens.bob, body)
      expect(answer.status, `${method} ${url}`).toBe(404)
    }
    const list = await h.call<{ items: unknown[] }>('GET', '/v1/models', h.tokens.bob)
    expect(list.body.items).toEqual([])
  })

  it('an analyst reads everything and every write is 403', async () => {
    for (const url of [
      '/v1/models',
      '/v1/models/private',
      '/v1/models/private/versions?compare=rmse',
      '/v1/models/private/versions/champion',
      '/v1/models/private/release',
      '/v1/models/private/releases',
    ]) {
      expect((await h.call('GET', url, h.tokens.analyst)).status, url).toBe(200)
    }
    for (const [method, url, body] of [
      ['POST', '/v1/models', { name: 'analysts-own' }],
      ['PUT', '/v1/models/private/release', { stable: 2, reason: 'x' }],
      ['POST', '/v1/models/private/release/rollback', { reason: 'x' }],
      ['PATCH', '/v1/models/private', { description: 'x' }],
      ['DELETE', '/v1/models/private'],
      ['POST', '/v1/models/private/restore'],
      ['DELETE', '/v1/models/private/versions/2'],
      ['POST', '/v1/models/private/versions/2/restore'],
      ['PUT', '/v1/models/private/aliases/challenger', { version: 2 }],
      ['DELETE', '/v1/models/private/aliases/challenger'],
      ['POST', '/v1/models/private/versions/1/annotations', { text: 'x' }],
      [
        'POST',
        '/v1/models/private/uploads',
        {
          size: 10,
          signature: {
            task: 'regression',
            inputs: [{ name: 'a', datatype: 'FP32', shape: [-1], nullable: true }],
            outputs: [{ name: 'y', datatype: 'FP32', shape: [-1], nullable: false }],
          },
        },
      ],
    ] as const) {
      const answer = await h.call(method, url, h.tokens.analyst, body)
      expect(answer.status, `${method} ${url}`).toBe(403)
    }
    // Nothing changed.
    const release = await h.call<{ release: Release }>(
      'GET',
      '/v1/models/private/release',
      h.tokens.alice,
    )
    expect(release.body.release).toEqual({ stable: 1 })
  })

  it('an admin sees and changes any model', async () => {
    const set = await h.call('PUT', '/v1/models/private/release', h.tokens.admin, {
      stable: 2,
      reason: 'ops',
    })
    expect(set.status).toBe(200)
    const history = await h.call<{ items: Array<{ changedBy: string }> }>(
      'GET',
      '/v1/models/private/releases',
      h.tokens.alice,
    )
    expect(history.body.items[0]!.changedBy).toBe('root')
  })
})
