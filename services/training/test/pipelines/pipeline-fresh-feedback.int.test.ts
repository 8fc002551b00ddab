import type { ModelSignature, StoredObject, TrainingRunSucceededData } from '@argmax/contracts'
import type { RunningRegistryService } from '@argmax/registry-service'
import { readStoredObject } from '@argmax/storage'
import { eventually, uniqueName } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PipelineDetails } from '../../src/api/pipelines.contract.ts'
import { startHarness, type Harness } from '../../../feedback/test/support/harness.ts'
import { startTrainingHarness, type TrainingHarness } from '../support/harness.ts'
import { vega, type Row } from '../trainers/support.ts'
import { startRegistryBeside } from '../support/registry-beside.ts'

/**
 * `data.source: fresh_feedback` against the real services: training (real trainer), the real
 * feedback service (its own test harness: ClickHouse, its sink, its API listening), the real
 * registry, and the dataset service registering feedback datasets — all on the test kit's
 * NATS, PostgreSQL, S3 and ClickHouse. Predictions of version 1 are written to ClickHouse as
 * inference's sink writes them, and labelled through feedback's API.
 */
describe('a retrain on the base dataset and a fresh feedback dataset', () => {
  let fb: Harness
  let h: TrainingHarness
  let registry: RunningRegistryService
  let baseVersionId: string
  let labelled = 0
  const model = 'movies-fresh'
  const movies = vega('movies')

  beforeAll(async () => {
    fb = await startHarness({ listen: true, start: new Date() })
    const trainingNames = { stream: uniqueName('TRAINING'), root: uniqueName('tr') }
    registry = (
      await startRegistryBeside({
        secret: fb.secret,
        training: trainingNames,
        names: fb.names.registry,
      })
    ).registry
    h = await startTrainingHarness({
      secret: fb.secret,
      names: trainingNames,
      pipelines: {
        registryUrl: registry.url!,
        registryNames: fb.names.registry,
        feedbackUrl: fb.service.url!,
        feedbackNames: fb.names.feedback,
        sweepMs: 300,
      },
    })
    baseVersionId = (await h.uploadVersion(h.tokens.alice, movies.slice(0, 600))).versionId
  }, 180_000)

  afterAll(async () => {
    await h?.stop()
    await registry?.stop()
    await fb?.stop()
  })

  const show = async () => {
    const response = await h.call<PipelineDetails>('GET', `/v1/pipelines/${model}`, h.tokens.root)
    expect(response.status).toBe(200)
    return response.body
  }

  async function runToEnd(n: number): Promise<PipelineDetails> {
    const trigger = await h.call('POST', `/v1/pipelines/${model}/trigger`, h.tokens.root, {
      reason: `run ${n}`,
    })
    expect(trigger.status).toBe(200)
    const deadline = Date.now() + 200_000
    let last: PipelineDetails | undefined
    while (Date.now() < deadline) {
      last = await show()
      const run = last.pipeline.current
      if (run?.pipelineRunId === `${model}.${n}` && run.status !== 'running') return last
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    throw new Error(`run ${n} did not end; last: ${JSON.stringify(last?.pipeline.current)}`)
  }

  const eventOf = (details: PipelineDetails, type: string) =>
    details.timeline.find((e) => e.type === type)?.data

  it('with nothing serving, the first run trains on the base alone and says why', async () => {
    const created = await h.call('POST', '/v1/pipelines', h.tokens.alice, {
      model,
      data: { source: 'fresh_feedback', datasetVersionId: baseVersionId, minFeedbackRows: 50 },
      training: {
        target: 'IMDB Rating',
        trainer: 'xgboost',
        params: { n_estimators: 30 },
        seed: 3,
      },
      evaluation: { metric: 'mae', direction: 'lower_is_better', margin: 0 },
      rollout: { steps: [10, 100] },
    })
    expect(created.status).toBe(201)
    const done = await runToEnd(1)
    expect(done.pipeline.current).toMatchObject({ status: 'completed', version: 1 })
    expect(eventOf(done, 'PipelineDataPrepared')).toMatchObject({
      source: 'base',
      datasetVersionIds: [baseVersionId],
      note: expect.stringContaining('nothing serves the model yet'),
    })
  }, 240_000)

  it('asks feedback for the labelled predictions since the release and trains on the base and them, naming both versions', async () => {
    // Version 1 serves: its predictions of the next 200 films, labelled with their ratings.
    // (Feedback learns of the release from the registry's events; until it has, the pipeline's
    // request is a 409 and the step waits.)
    const signatureObject = (
      await h.training.deps.db
        .selectFrom('registry_versions')
        .select('signature')
        .where('model', '=', model)
        .where('version', '=', 1)
        .executeTakeFirstOrThrow()
    ).signature
    const signature = JSON.parse(
      (await readStoredObject(h.training.deps.s3, signatureObject, { maxBytes: 1 << 20 })).toString(
        'utf8',
      ),
    ) as ModelSignature
    const films = movies.slice(600, 800).filter((row) => typeof row['IMDB Rating'] === 'number')
    fb.clock.set(new Date())
    const ids = await fb.logPredictions(
      model,
      1,
      films.map((row: Row) => ({
        inputs: Object.fromEntries(signature.inputs.map((i) => [i.name, row[i.name] ?? null])),
        prediction: 6,
      })),
    )
    const sent = await fb.call('POST', '/v1/feedback', fb.tokens.alice, {
      labels: ids.map((predictionId, i) => ({ predictionId, value: films[i]!['IMDB Rating'] })),
    })
    expect(sent.status).toBe(202)
    labelled = films.length
    await eventually(async () => {
      const [row] = await fb.service.analytics.query<{ n: string }>(
        'SELECT count() AS n FROM feedback_history',
      )
      return Number(row!.n) === labelled ? true : undefined
    })
    fb.clock.set(new Date(Date.now() + 1_000))

    const done = await runToEnd(2)
    const run = done.pipeline.current!
    const requested = eventOf(done, 'PipelineFeedbackRequested') as {
      feedbackDatasetId: string
      servingVersion: number
    }
    expect(requested).toMatchObject({ servingVersion: 1 })
    const feedbackVersionId = requested.feedbackDatasetId
    expect(eventOf(done, 'PipelineDataPrepared')).toMatchObject({
      source: 'fresh_feedback',
      feedbackDatasetId: feedbackVersionId,
      datasetVersionId: baseVersionId,
      datasetVersionIds: [baseVersionId, feedbackVersionId],
      feedbackRows: labelled,
    })
    expect(run).toMatchObject({
      datasetVersionIds: [baseVersionId, feedbackVersionId],
      feedbackRows: labelled,
      servingVersion: 1,
    })
    expect(run.status, JSON.stringify(run.failure)).not.toBe('failed')
    // One feedback dataset for the run, however often the step ran.
    const fbEvents = await fb.store.load(`${fb.names.feedback.root}.dataset.${feedbackVersionId}`)
    expect(fbEvents.filter((e) => e.type === 'FeedbackDatasetRequested')).toHaveLength(1)

    // The training run read both versions as one table and records both for lineage.
    const runEvents = await h.events(`${h.names.root}.run.${run.trainingRunId}`)
    const queued = runEvents.find((e) => e.type === 'TrainingRunQueued')!.data as {
      dataset: { versionId: string }
      extraDatasets: Array<{ versionId: string }>
    }
    expect(queued.dataset.versionId).toBe(baseVersionId)
    expect(queued.extraDatasets.map((d) => d.versionId)).toEqual([feedbackVersionId])
    const succeeded = runEvents.find((e) => e.type === 'TrainingRunSucceeded')!
      .data as TrainingRunSucceededData
    expect(succeeded.extraDatasets?.map((d) => d.versionId)).toEqual([feedbackVersionId])
    const metrics = JSON.parse(
      (
        await readStoredObject(h.training.deps.s3, succeeded.artifacts.metrics as StoredObject, {
          maxBytes: 1 << 20,
        })
      ).toString('utf8'),
    ) as { rows: { read: number } }
    expect(metrics.rows.read).toBe(600 + labelled)
  }, 300_000)

  it('too few labelled rows since the release fail the data step with the numbers', async () => {
    const update = await h.call('PUT', `/v1/pipelines/${model}`, h.tokens.alice, {
      data: { source: 'fresh_feedback', datasetVersionId: baseVersionId, minFeedbackRows: 100_000 },
      training: {
        target: 'IMDB Rating',
        trainer: 'xgboost',
        params: { n_estimators: 30 },
        seed: 3,
      },
      evaluation: { metric: 'mae', direction: 'lower_is_better', margin: 0 },
    })
    expect(update.status).toBe(200)
    fb.clock.set(new Date(Date.now() + 1_000))
    const done = await runToEnd(3)
    const run = done.pipeline.current!
    expect(run.status).toBe('failed')
    expect(run.failure?.reason).toBe('data_unavailable')
    expect(run.failure?.message).toMatch(
      /^too few labelled predictions since version \d+'s release: \d+ in feedback dataset .+, the minimum is 100000 \(data\.minFeedbackRows\); nothing new enough to train on$/,
    )
    expect(run.trainingRunId).toBeNull()
  }, 240_000)
})
