import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LINEAR_SIGNATURE } from '@argmax/testkit/onnx-models'
import { modelSubject } from '../../src/streams.ts'
import {
  fakeRun,
  publishRun,
  registeredVersion,
  startHarness,
  type Harness,
} from '../support/harness.ts'
import { eventually } from '@argmax/testkit'

interface Version {
  version: number
  ownerId: string
  metrics: Record<string, number>
  lineage: Record<string, unknown>
  source: Record<string, unknown>
  artifact: { uri: string; sha256: string; size: number }
  signature: { inputs: Array<{ name: string }> }
  trainer: { name: string } | null
  libraries: Record<string, string> | null
}

describe('versions from training runs', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.stop())

  const versionOf = (model: string, version: number, token = h.tokens.alice) =>
    registeredVersion<Version>(h, model, version, token)

  it('a queued run creates its model for the run owner; READY makes version 1 with lineage', async () => {
    const run = await fakeRun(h, { model: 'movies', ownerId: 'alice' })
    await publishRun(h, { queued: run.queued })
    const model = await eventually(
      async () => {
        const answer = await h.call<{ ownerId: string; origin: string; versionCount: number }>(
          'GET',
          '/v1/models/movies',
          h.tokens.alice,
        )
        return answer.status === 200 ? answer.body : undefined
      },
      30_000,
      'the model',
    )
    expect(model).toMatchObject({ ownerId: 'alice', origin: 'training', versionCount: 0 })

    // A retrain's run: the base version, then a feedback dataset read after it as one table.
    const feedback = { datasetId: 'ds-feedback', versionId: 'dsv-fb', sha256: 'f'.repeat(64) }
    await publishRun(h, { succeeded: { ...run.succeeded, extraDatasets: [feedback] } })
    const version = await versionOf('movies', 1)
    expect(version).toMatchObject({
      version: 1,
      ownerId: 'alice',
      metrics: run.succeeded.metrics,
      source: { kind: 'training', runId: run.succeeded.runId, attempt: 1 },
      lineage: {
        datasetId: 'ds-movies',
        datasetVersionId: 'dsv-1',
        datasetSha256: run.succeeded.dataset.sha256,
        extraDatasets: [feedback],
        runId: run.succeeded.runId,
        attempt: 1,
      },
      artifact: run.succeeded.artifacts.model,
      trainer: { name: 'xgboost' },
      libraries: { xgboost: '1.7.4', onnx: '1.12.0' },
    })
    // The signature is read from schema.json and kept in the read model for the API.
    expect(version.signature.inputs.map((i) => i.name)).toEqual(['x1', 'x2'])

    const lineage = await h.call<{ root: Record<string, unknown> }>(
      'GET',
      '/v1/models/movies/versions/1/lineage',
      h.tokens.alice,
    )
    expect(lineage.status).toBe(200)
    expect(lineage.body.root).toMatchObject({
      kind: 'dataset',
      id: 'ds-movies',
      children: [
        {
          kind: 'dataset_version',
          id: 'dsv-1',
          attributes: { sha256: run.succeeded.dataset.sha256 },
          children: [
            {
              kind: 'run',
              id: run.succeeded.runId,
              attributes: { extraDatasetVersions: 'dsv-fb' },
              children: [
                { kind: 'attempt', id: '1', children: [{ kind: 'model_version', id: 'movies/1' }] },
              ],
            },
          ],
        },
      ],
    })
  })

  it('a run delivered twice is exactly one version; the next run is version 2', async () => {
    const run = await fakeRun(h, { model: 'twice', ownerId: 'alice' })
    await publishRun(h, run)
    await versionOf('twice', 1)
    const repeatedBefore = h.service.workers.training.handled.repeated
    // The same event again, as a redelivery after a crash between append and ack would give it.
    await publishRun(h, { succeeded: run.succeeded })
    await eventually(
      async () => (h.service.workers.training.handled.repeated > repeatedBefore ? true : undefined),
      30_000,
      'the repeat to be handled',
    )
    const second = await fakeRun(h, { model: 'twice', ownerId: 'alice', metrics: { rmse: 0.8 } })
    await publishRun(h, { succeeded: second.succeeded })
    await versionOf('twice', 2)

    const events = await h.store.load(modelSubject(h.names, 'twice'))
    const registered = events.filter((e) => e.type === 'ModelVersionRegistered')
    expect(registered.map((e) => (e.data as { source: { runId: string } }).source.runId)).toEqual([
      run.succeeded.runId,
      second.succeeded.runId,
    ])
    const list = await h.call<{ items: Array<{ version: number }> }>(
      'GET',
      '/v1/models/twice/versions',
      h.tokens.alice,
    )
    expect(list.body.items.map((v) => v.version)).toEqual([2, 1])
  })

  it("a run for another user's model name gives them nothing: refused and recorded", async () => {
    const own = await fakeRun(h, { model: 'guarded', ownerId: 'alice' })
    await publishRun(h, own)
    await versionOf('guarded', 1)

    const intruder = await fakeRun(h, { model: 'guarded', ownerId: 'bob' })
    await publishRun(h, intruder)
    const refused = await eventually(
      async () => {
        const answer = await h.call<{
          refusedRuns: Array<{ runId: string; reason: string; ownerId: string }>
        }>('GET', '/v1/models/guarded', h.tokens.alice)
        return answer.body.refusedRuns.length > 0 ? answer.body.refusedRuns : undefined
      },
      30_000,
      'the refusal',
    )
    expect(refused).toEqual([
      expect.objectContaining({
        runId: intruder.succeeded.runId,
        reason: 'not_owner',
        ownerId: 'bob',
      }),
    ])
    // Bob neither sees the model nor got a version of it.
    expect((await h.call('GET', '/v1/models/guarded', h.tokens.bob)).status).toBe(404)
    const model = await h.call<{ ownerId: string; versionCount: number }>(
      'GET',
      '/v1/models/guarded',
      h.tokens.alice,
    )
    expect(model.body).toMatchObject({ ownerId: 'alice', versionCount: 1 })
    const events = await h.store.load(modelSubject(h.names, 'guarded'))
    expect(events.map((e) => e.type)).toEqual([
      'ModelCreated',
      'ModelVersionRegistered',
      'ModelVersionRegistrationRefused',
    ])
  })

  it('a run whose schema.json is missing is refused once, with the reason', async () => {
    // A signature of its own: one the registry has read before is known by its SHA-256.
    const signature = {
      ...LINEAR_SIGNATURE,
      outputs: [{ ...LINEAR_SIGNATURE.outputs[0]!, name: 'z' }],
    }
    const run = await fakeRun(h, { model: 'broken', ownerId: 'alice', signature })
    const missing = {
      ...run.succeeded,
      artifacts: {
        ...run.succeeded.artifacts,
        signature: {
          ...run.succeeded.artifacts.signature,
          uri: `s3://${h.bucket}/runs/nowhere/schema.json`,
        },
      },
    }
    await publishRun(h, { succeeded: missing })
    const refused = await eventually(
      async () => {
        const answer = await h.call<{ refusedRuns: Array<{ reason: string; message: string }> }>(
          'GET',
          '/v1/models/broken',
          h.tokens.alice,
        )
        return answer.status === 200 && answer.body.refusedRuns.length > 0
          ? answer.body.refusedRuns
          : undefined
      },
      30_000,
      'the refusal',
    )
    expect(refused[0]).toMatchObject({ reason: 'signature_unreadable' })
    expect(refused[0]!.message).toContain('not in storage')
  })
})
