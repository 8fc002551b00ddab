import type { TrainingRunSucceededData } from '@argmax/contracts'
import { parseS3Uri } from '@argmax/contracts'
import { hashObject } from '../../src/application/artifact-files.ts'
import { s3Client } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunDetailView, RunView } from '../../src/api/contract.ts'
import { runSubject } from '../../src/streams.ts'
import { moviesRun, startTrainingHarness, type TrainingHarness } from '../support/harness.ts'

/**
 * The runs API against the real stack: the dataset service in this process (its events reach
 * training's own projection), the training service with the local runner running the real
 * built-in trainer (Debian's XGBoost) as child processes, NATS, PostgreSQL and S3 from the
 * test kit.
 */
describe('training runs', { timeout: 300_000 }, () => {
  let h: TrainingHarness
  let versionId: string
  let datasetId: string
  beforeAll(async () => {
    h = await startTrainingHarness({ trainer: 'real' })
    ;({ versionId, datasetId } = await h.uploadVersion(h.tokens.alice))
  })
  afterAll(() => h?.stop())

  it('trains an xgboost regressor to READY and publishes TrainingRunSucceeded as the contract declares', async () => {
    const created = await h.submit(h.tokens.alice, moviesRun(versionId))
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const run = created.body['run'] as RunView
    expect(run).toMatchObject({
      status: 'PENDING',
      ownerId: 'alice',
      model: 'movies-rating',
      task: 'regression',
      target: 'IMDB Rating',
      priority: 'normal',
      trainer: { name: 'xgboost' },
      dataset: { datasetId, versionId },
      timeoutSeconds: 36 * 3600,
      maxAttempts: 3,
    })
    expect(created.headers['location']).toBe(`/v1/runs/${run.id}`)
    const ready = await h.waitForRun(run.id, (r) => r.status === 'READY' || r.status === 'FAILED')
    expect(ready.status, JSON.stringify(ready.failure)).toBe('READY')
    expect(ready.attempts).toMatchObject([{ attempt: 1, outcome: 'succeeded', runner: 'local' }])
    expect(ready.metrics!['rmse']).toBeLessThan(ready.metrics!['baseline_rmse']!)
    expect(Object.keys(ready.metrics!).sort()).toEqual([
      'baseline_mae',
      'baseline_r2',
      'baseline_rmse',
      'baseline_value',
      'mae',
      'r2',
      'rmse',
      'test_rows',
    ])

    const events = await h.events(runSubject(h.names, run.id))
    expect(events.map((e) => e.type)).toEqual([
      'TrainingRunQueued',
      'TrainingAttemptStarted',
      'TrainingRunSucceeded',
    ])
    const queued = events[0]!.data as Record<string, unknown>
    for (const field of ['runId', 'model', 'ownerId', 'task', 'dataset', 'queuedAt'])
      expect(queued).toHaveProperty(field)
    const succeeded = events[2]!.data as TrainingRunSucceededData
    expect(succeeded).toMatchObject({
      runId: run.id,
      attempt: 1,
      model: 'movies-rating',
      ownerId: 'alice',
      task: 'regression',
      trainer: { name: 'xgboost' },
      target: 'IMDB Rating',
      seed: 1,
      dataset: { datasetId, versionId },
    })
    expect(succeeded.trainer.codeVersion).toMatch(/^[0-9a-f]{40}|^[0-9a-f]{64}/)
    expect(succeeded.params).toMatchObject({ n_estimators: 60, max_depth: 6 })
    expect(succeeded.libraries).toHaveProperty('xgboost')
    expect(succeeded.features).toContain('Running Time min')
    expect(succeeded.features).not.toContain('IMDB Rating')
    expect(Object.keys(succeeded.artifacts).sort()).toEqual(
      [
        'holdout',
        'log',
        'metrics',
        'model',
        'native',
        'predictionsSample',
        'reproducibility',
        'signature',
      ].sort(),
    )
    // Every artifact is where it says, with the SHA-256 and size it says.
    const s3 = s3Client()
    for (const artifact of Object.values(succeeded.artifacts)) {
      const { bucket, key } = parseS3Uri(artifact!.uri)!
      expect(bucket).toBe(h.bucket)
      expect(key).toMatch(new RegExp(`^runs/${run.id}/attempts/1/`))
      expect(await hashObject(s3, bucket, key)).toEqual(artifact)
    }

    const metrics = await h.call<{
      items: Array<{ iteration: number; metrics: Record<string, number> }>
    }>('GET', `/v1/runs/${run.id}/metrics`, h.tokens.alice)
    expect(metrics.status).toBe(200)
    expect(metrics.body.items.length).toBeGreaterThan(0)
    expect(metrics.body.items.some((m) => 'validation-rmse' in m.metrics)).toBe(true)
    const logs = await h.call<{ source: string; text: string }>(
      'GET',
      `/v1/runs/${run.id}/logs`,
      h.tokens.alice,
    )
    expect(logs.status).toBe(200)
    expect(logs.body.text).toContain("argmax trainer 'xgboost'")
  })

  it('refuses bad requests naming the field, and writes nothing', async () => {
    const refusals: Array<[Record<string, unknown>, number, string]> = [
      [{ target: 'Rating' }, 400, '/target'],
      [{ params: { max_depth: 100 } }, 400, '/params/max_depth'],
      [{ params: { max_dept: 3 } }, 400, '/params/max_dept'],
      [{ features: ['IMDB Rating'] }, 400, '/features/0'],
      [{ task: 'classification' }, 400, '/task'],
      [{ model: 'Movies!' }, 400, '/model'],
      [
        { trainer: 'custom', image: 'ghcr.io/acme/trainer:1', command: ['python', 'train.py'] },
        400,
        '/trainer',
      ],
      [{ resources: { gpus: 1 } }, 400, '/resources/gpus'],
      [{ priority: 'high' }, 403, '/priority'],
      [{ timeoutSeconds: 48 * 3600 }, 403, '/timeoutSeconds'],
      [{ timeoutSeconds: 100 * 3600 }, 400, '/timeoutSeconds'],
      [{ unknown: 1 }, 400, '/unknown'],
    ]
    for (const [override, , field] of refusals) {
      const response = await h.submit(h.tokens.bob, moviesRun(versionId, override))
      // Bob may not see alice's version: 404 before anything else is looked at (but the
      // body's shape, which fastify checks first).
      expect(response.status).toBe(field === '/unknown' ? 400 : 404)
    }
    const bobs = await h.uploadVersion(h.tokens.bob, undefined, 'bobs-movies')
    for (const [override, status, field] of refusals) {
      const response = await h.submit(h.tokens.bob, moviesRun(bobs.versionId, override))
      expect(
        response.status,
        `${JSON.stringify(override)} → ${JSON.stringify(response.body)}`,
      ).toBe(status)
      const errors = (response.body['errors'] as Array<{ field: string }>).map((e) => e.field)
      expect(errors).toContain(field)
    }
    // Extra versions: each checked like the version (someone else's is 404), not itself again.
    const itself = await h.submit(
      h.tokens.bob,
      moviesRun(bobs.versionId, { extraDatasetVersionIds: [bobs.versionId] }),
    )
    expect(itself.status).toBe(400)
    expect(JSON.stringify(itself.body)).toContain('/extraDatasetVersionIds/0')
    const others = await h.submit(
      h.tokens.bob,
      moviesRun(bobs.versionId, { extraDatasetVersionIds: [versionId] }),
    )
    expect(others.status).toBe(404)
    const quota = await h.call<{ usage: { concurrent: number } }>(
      'GET',
      '/v1/runs/quotas/bob',
      h.tokens.bob,
    )
    expect(quota.body.usage.concurrent).toBe(0)
    const listed = await h.call<{ items: RunView[] }>('GET', '/v1/runs', h.tokens.bob)
    expect(listed.body.items).toEqual([])
  })

  it('trains on a version whose schema is too large for its event (read from where dataset stored it)', async () => {
    // 2,000 columns (the most dataset takes), 1,999 of them with 150-character names: the
    // schema is over 256 KiB, so VersionValidated
    // references it in S3 instead of carrying it.
    const wide = (c: number) => `${'w'.repeat(144)}${String(c).padStart(6, '0')}`
    const rows = Array.from({ length: 40 }, (_, r) => {
      const row: Record<string, number> = { target: r % 7 }
      for (let c = 0; c < 1999; c++) row[wide(c)] = (r * (c + 1)) % 13
      return row
    })
    const version = await h.uploadVersion(h.tokens.alice, rows, 'wide')
    const projected = await h.training.database.db
      .selectFrom('dataset_versions')
      .select('schema')
      .where('version_id', '=', version.versionId)
      .executeTakeFirstOrThrow()
    expect(projected.schema).toHaveProperty('stored.uri')

    const unknown = await h.submit(
      h.tokens.alice,
      moviesRun(version.versionId, { target: 'target', features: [wide(3), 'no-such-column'] }),
    )
    expect(unknown.status).toBe(400)
    expect((unknown.body['errors'] as Array<{ field: string }>).map((e) => e.field)).toContain(
      '/features/1',
    )
    const created = await h.submit(
      h.tokens.alice,
      moviesRun(version.versionId, { target: 'target', features: [wide(3), wide(1998)] }),
    )
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const run = created.body['run'] as RunView
    const ready = await h.waitForRun(run.id, (r) => r.status === 'READY' || r.status === 'FAILED')
    expect(ready.status, JSON.stringify(ready.failure)).toBe('READY')
    expect(ready.features).toEqual([wide(3), wide(1998)])
  })

  it('answers 404 for an unknown version, 409 for one not validated', async () => {
    expect((await h.submit(h.tokens.alice, moviesRun('no-such-version'))).status).toBe(404)
    // A version still uploading: started, never completed.
    const created = await h.dataset.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { authorization: `Bearer ${h.tokens.alice}` },
      payload: { name: 'half' },
    })
    const datasetId2 = (JSON.parse(created.body) as { id: string }).id
    const started = await h.dataset.app.inject({
      method: 'POST',
      url: `/v1/datasets/${datasetId2}/uploads`,
      headers: { authorization: `Bearer ${h.tokens.alice}` },
      payload: { fileName: 'x.csv', size: 10, sha256: 'ab'.repeat(32), format: 'csv' },
    })
    const uploading = (JSON.parse(started.body) as { uploadId: string }).uploadId
    const deadline = Date.now() + 30_000
    let response
    do {
      response = await h.submit(h.tokens.alice, moviesRun(uploading))
      if (response.status === 409) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    } while (Date.now() < deadline)
    expect(response.status).toBe(409)
    expect(String(response.body['detail'])).toContain('UPLOADING')
  })

  it('makes a create idempotent under an Idempotency-Key; another body under the key is 422', async () => {
    const body = moviesRun(versionId, { model: 'movies-idem', params: { n_estimators: 20 } })
    const first = await h.submit(h.tokens.alice, body, 'key-1')
    const again = await h.submit(h.tokens.alice, body, 'key-1')
    expect(first.status).toBe(201)
    expect(again.status).toBe(201)
    expect(again.body['id']).toBe(first.body['id'])
    const other = await h.submit(h.tokens.alice, { ...body, seed: 2 }, 'key-1')
    expect(other.status).toBe(422)
    const events = await h.events(runSubject(h.names, first.body['id'] as string))
    expect(events.filter((e) => e.type === 'TrainingRunQueued')).toHaveLength(1)
    await h.waitForRun(first.body['id'] as string, (r) => r.status === 'READY')
  })

  it("shows owners their runs, admins and analysts all; another user's run is 404; analysts change nothing", async () => {
    const runs = await h.call<{ items: RunView[] }>('GET', '/v1/runs', h.tokens.alice)
    expect(runs.body.items.length).toBeGreaterThan(0)
    const runId = runs.body.items[0]!.id
    expect((await h.call('GET', `/v1/runs/${runId}`, h.tokens.bob)).status).toBe(404)
    expect((await h.call('GET', `/v1/runs/${runId}/logs`, h.tokens.bob)).status).toBe(404)
    expect((await h.call('GET', `/v1/runs/${runId}/metrics`, h.tokens.bob)).status).toBe(404)
    expect((await h.call('POST', `/v1/runs/${runId}/cancel`, h.tokens.bob)).status).toBe(404)
    expect((await h.call('GET', `/v1/runs/${runId}`, h.tokens.ann)).status).toBe(200)
    expect((await h.call('POST', `/v1/runs/${runId}/cancel`, h.tokens.ann)).status).toBe(403)
    expect((await h.submit(h.tokens.ann, moviesRun(versionId))).status).toBe(403)
    expect((await h.call('GET', '/v1/runs?owner=alice', h.tokens.bob)).status).toBe(403)
    const all = await h.call<{ items: RunView[] }>(
      'GET',
      `/v1/runs?owner=alice&datasetVersionId=${versionId}`,
      h.tokens.root,
    )
    expect(
      all.body.items.every((r) => r.ownerId === 'alice' && r.dataset.versionId === versionId),
    ).toBe(true)
    // Keyset pages of one run each walk the whole list once, newest first.
    const walked: string[] = []
    let cursor: string | null = null
    do {
      const page: { body: { items: RunView[]; nextCursor: string | null } } = await h.call(
        'GET',
        `/v1/runs?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        h.tokens.alice,
      )
      walked.push(...page.body.items.map((r) => r.id))
      cursor = page.body.nextCursor
    } while (cursor !== null)
    expect(walked).toEqual(runs.body.items.map((r) => r.id))
    expect(walked.length).toBeGreaterThan(1)
    const ready = await h.call<{ items: RunView[] }>('GET', '/v1/runs?status=READY', h.tokens.alice)
    expect(ready.body.items.every((r) => r.status === 'READY')).toBe(true)
    expect((await h.call('GET', '/v1/runs/dead-letters', h.tokens.alice)).status).toBe(403)
    expect((await h.call('POST', `/v1/runs/${runId}/retry`, h.tokens.alice)).status).toBe(403)
    // A finished run cannot be cancelled.
    const finished = await h.call<RunDetailView>('GET', `/v1/runs/${runId}`, h.tokens.alice)
    if (finished.body.status === 'READY') {
      expect((await h.call('POST', `/v1/runs/${runId}/cancel`, h.tokens.alice)).status).toBe(409)
    }
  })
})
