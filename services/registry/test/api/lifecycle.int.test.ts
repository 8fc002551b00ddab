import { parseS3Uri } from '@argmax/contracts'
import { rebuildProjection, silentLogger } from '@argmax/projections'
import { headObject, listObjectKeys } from '@argmax/storage'
import { LINEAR_SIGNATURE } from '@argmax/testkit/onnx-models'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CATALOG_TABLES, catalogProjection, truncateCatalog } from '../../src/projections/index.ts'
import { modelSubject, releaseSubject } from '../../src/streams.ts'
import {
  fakeRun,
  publishRun,
  registeredVersion,
  startHarness,
  testModels,
  type Harness,
} from '../support/harness.ts'
import { eventually } from '@argmax/testkit'

const DAY = 24 * 3600 * 1000

async function registerRun(h: Harness, model: string, ownerId = 'alice', version?: number) {
  const run = await fakeRun(h, { model, ownerId })
  await publishRun(h, run)
  if (version !== undefined) {
    await registeredVersion(h, model, version)
  }
  return run
}

async function uploadVersion(h: Harness, model: string) {
  const { linear } = await testModels()
  const started = await h.call<{ upload: { uploadId: string }; url: string }>(
    'POST',
    `/v1/models/${model}/uploads`,
    h.tokens.alice,
    { signature: LINEAR_SIGNATURE, size: linear.length },
  )
  await fetch(started.body.url, { method: 'PUT', body: linear })
  const done = await h.call<{ position: number; version: { version: number } }>(
    'POST',
    `/v1/models/${model}/uploads/${started.body.upload.uploadId}/complete`,
    h.tokens.alice,
  )
  expect(done.status).toBe(201)
  return { uploadId: started.body.upload.uploadId, version: done.body.version.version }
}

/** Every row of every catalog table, in a stable order. */
async function snapshot(h: Harness): Promise<Record<string, unknown[]>> {
  const db = h.service.database.db
  const tables: Record<string, unknown[]> = {}
  for (const table of CATALOG_TABLES) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
      db,
    )
    tables[table] = rows
      .map((row) => JSON.stringify(row, Object.keys(row).sort()))
      .sort()
      .map((row) => JSON.parse(row) as unknown)
  }
  return tables
}

describe('the catalog projection', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.stop())

  it('rebuilt from the events equals the live one', { timeout: 120_000 }, async () => {
    // Every kind of event: models by users and by training, versions from runs and uploads,
    // a refused run, annotations, aliases, deletions, releases and a rollback, a purge.
    await h.call('POST', '/v1/models', h.tokens.alice, { name: 'movies', tags: ['demo'] })
    await h.call('PATCH', '/v1/models/movies', h.tokens.alice, { description: 'ratings' })
    await registerRun(h, 'movies', 'alice', 1)
    await registerRun(h, 'movies', 'alice', 2)
    await registerRun(h, 'movies', 'bob')
    await uploadVersion(h, 'movies')
    await h.call('POST', '/v1/models/movies/versions/1/annotations', h.tokens.alice, { text: 'ok' })
    await h.call('PUT', '/v1/models/movies/aliases/challenger', h.tokens.alice, { version: 2 })
    await h.call('PUT', '/v1/models/movies/aliases/challenger', h.tokens.alice, { version: 3 })
    await h.call('PUT', '/v1/models/movies/aliases/staging', h.tokens.alice, { version: 1 })
    await h.call('DELETE', '/v1/models/movies/aliases/staging', h.tokens.alice)
    await h.call('PUT', '/v1/models/movies/release', h.tokens.alice, { stable: 1, reason: 'a' })
    await h.call('PUT', '/v1/models/movies/release', h.tokens.alice, {
      stable: 2,
      canary: { version: 3, percent: 10 },
      reason: 'b',
    })
    await h.call('POST', '/v1/models/movies/release/rollback', h.tokens.alice, { reason: 'c' })
    await h.call('DELETE', '/v1/models/movies/versions/3', h.tokens.alice)
    await registerRun(h, 'trained', 'bob', 1)
    await h.call('PUT', '/v1/models/trained/release', h.tokens.bob, { stable: 1, reason: 'x' })
    await h.call('DELETE', '/v1/models/trained', h.tokens.bob)
    await h.call('POST', '/v1/models', h.tokens.bob, { name: 'short-lived' })
    const deleted = await h.call<{ position: number }>(
      'DELETE',
      '/v1/models/short-lived',
      h.tokens.bob,
    )
    // The purge finds its candidates in the read model.
    await h.service.waitForPosition(deleted.body.position)
    h.clock.advance(91 * DAY)
    const purge = await h.service.workers.purge.runOnce()
    expect(purge.failures).toEqual([])
    expect(purge.models.map((m) => m.model).sort()).toEqual(['short-lived', 'trained'])
    const last = await h.call<{ position: number }>('POST', '/v1/models', h.tokens.alice, {
      name: 'last',
    })
    await h.service.waitForPosition(last.body.position)

    const live = await snapshot(h)
    // movies 1 and 2 (3 was deleted, then purged with the clock 91 days on).
    expect(live['model_versions']!.length).toBe(2)
    expect(live['registration_refusals']!.length).toBe(1)
    // movies: set, set, rollback; trained: set, model_deleted.
    expect(live['release_history']!.length).toBe(5)

    await rebuildProjection({
      nc: h.nc,
      db: h.service.database.db,
      stream: h.names.stream,
      projection: catalogProjection,
      truncate: truncateCatalog,
      log: silentLogger,
    })
    expect(await snapshot(h)).toEqual(live)
  })
})

describe('the purge', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.stop())

  const exists = async (uri: string) => (await headObject(h.s3, parseS3Uri(uri)!)) !== undefined
  /** A deletion the read model has applied: the purge finds its candidates there. */
  const remove = async (url: string) => {
    const deleted = await h.call<{ position: number }>('DELETE', url, h.tokens.alice)
    expect(deleted.status).toBe(200)
    await h.service.waitForPosition(deleted.body.position)
  }

  it('removes a deleted version after 90 days with its artifacts, never a served one', async () => {
    const one = await registerRun(h, 'kept', 'alice', 1)
    const two = await registerRun(h, 'kept', 'alice', 2)
    await h.call('PUT', '/v1/models/kept/release', h.tokens.alice, { stable: 1, reason: 'serve' })
    await remove('/v1/models/kept/versions/2')

    h.clock.advance(89 * DAY)
    let report = await h.service.workers.purge.runOnce()
    expect(report.versions).toEqual([])
    expect(await exists(two.succeeded.artifacts.model.uri)).toBe(true)

    h.clock.advance(1 * DAY + 1000)
    report = await h.service.workers.purge.runOnce()
    expect(report.versions).toEqual([{ model: 'kept', version: 2, objectsDeleted: 3 }])
    expect(await exists(two.succeeded.artifacts.model.uri)).toBe(false)
    expect(await exists(one.succeeded.artifacts.model.uri)).toBe(true)
    const events = await h.store.load(modelSubject(h.names, 'kept'))
    expect(events.at(-1)).toMatchObject({ type: 'ModelVersionPurged', actor: 'system:purge' })
    await eventually(
      async () =>
        (await h.call('GET', '/v1/models/kept/versions/2', h.tokens.alice)).status === 404
          ? true
          : undefined,
      30_000,
      'the version gone from the read model',
    )
  })

  it('removes a deleted model after 90 days with every artifact; restorable until then', async () => {
    const run = await registerRun(h, 'doomed', 'alice', 1)
    const { uploadId } = await uploadVersion(h, 'doomed')
    await h.call('PUT', '/v1/models/doomed/release', h.tokens.alice, { stable: 1, reason: 'serve' })
    await remove('/v1/models/doomed')
    const release = await h.store.load(releaseSubject(h.names, 'doomed'))
    expect(release.at(-1)!.data).toMatchObject({ release: null, kind: 'model_deleted' })

    h.clock.advance(60 * DAY)
    expect((await h.service.workers.purge.runOnce()).models).toEqual([])
    h.clock.advance(31 * DAY)
    const report = await h.service.workers.purge.runOnce()
    expect(report.models).toEqual([expect.objectContaining({ model: 'doomed', versions: [1, 2] })])
    expect(await exists(run.succeeded.artifacts.model.uri)).toBe(false)
    expect(await exists(run.succeeded.artifacts.signature.uri)).toBe(false)
    expect(await listObjectKeys(h.s3, { bucket: h.bucket, prefix: `models/doomed/` })).toEqual([])
    expect(uploadId).toBeDefined()
    await eventually(
      async () =>
        (await h.call('GET', '/v1/models/doomed', h.tokens.alice)).status === 404
          ? true
          : undefined,
      30_000,
      'the model gone from the read model',
    )
    // The name is free again; numbers go on where they stopped.
    await registerRun(h, 'doomed', 'bob', 3)
  })

  it('aborts uploads left open and deletes their files', async () => {
    await h.call('POST', '/v1/models', h.tokens.alice, { name: 'uploads' })
    const { linear } = await testModels()
    const started = await h.call<{ upload: { uploadId: string }; url: string }>(
      'POST',
      '/v1/models/uploads/uploads',
      h.tokens.alice,
      { signature: LINEAR_SIGNATURE, size: linear.length },
    )
    await fetch(started.body.url, { method: 'PUT', body: linear })
    await h.service.waitForPosition(
      (started.body as unknown as { upload: { position: number } }).upload.position,
    )
    h.clock.advance(2 * DAY)
    const report = await h.service.workers.purge.runOnce()
    expect(report.abortedUploads).toEqual([started.body.upload.uploadId])
    const key = `models/uploads/uploads/${started.body.upload.uploadId}/model.onnx`
    expect(await headObject(h.s3, { bucket: h.bucket, key })).toBeUndefined()
  })
})

describe('bootstrap releases', () => {
  it('give a model that never had a release its configured one, once, by system:bootstrap', async () => {
    const first = await startHarness({ bootstrapReleases: [{ model: 'boot', version: 1 }] })
    const reuse = {
      names: first.names,
      training: first.training,
      bucket: first.bucket,
      schema: first.config.registry.schema,
      secret: first.secret,
    }
    try {
      // No version yet: the entry waits and applies once training registers one.
      await registerRun(first, 'boot', 'alice', 1)
      const release = await eventually(
        async () => {
          const answer = await first.call<{
            release: { stable: number } | null
            kind: string
            changedBy: string
          }>('GET', '/v1/models/boot/release', first.tokens.alice)
          return answer.body.release ? answer.body : undefined
        },
        30_000,
        'the bootstrap release',
      )
      expect(release).toMatchObject({
        release: { stable: 1 },
        kind: 'bootstrap',
        changedBy: 'system:bootstrap',
      })
      await registerRun(first, 'boot', 'alice', 2)
      await first.call('PUT', '/v1/models/boot/release', first.tokens.alice, {
        stable: 2,
        reason: 'v2',
      })
      // A model its owner released, with no bootstrap entry at the time.
      await registerRun(first, 'released', 'alice', 1)
      await registerRun(first, 'released', 'alice', 2)
      await first.call('PUT', '/v1/models/released/release', first.tokens.alice, {
        stable: 2,
        reason: 'mine',
      })
    } finally {
      await first.stop()
    }

    // Restarted with both named: neither release changes — from the first release on, releases decide.
    const second = await startHarness({
      reuse,
      bootstrapReleases: [
        { model: 'boot', version: 1 },
        { model: 'released', version: 1 },
      ],
    })
    try {
      await second.service.workers.bootstrap.settled
      const boot = await second.store.load(releaseSubject(second.names, 'boot'))
      expect(boot.map((e) => (e.data as { kind: string }).kind)).toEqual(['bootstrap', 'set'])
      const released = await second.store.load(releaseSubject(second.names, 'released'))
      expect(released.map((e) => (e.data as { kind: string }).kind)).toEqual(['set'])
    } finally {
      await second.stop()
    }
  })
})
