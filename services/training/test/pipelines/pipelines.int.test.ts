import { generateDevSecret } from '@argmax/auth'
import type { RetrainRequestedData, StoredObject } from '@argmax/contracts'
import {
  createEventStore,
  ensureStreams,
  type EventStore,
  type RecordedEvent,
} from '@argmax/events'
import type { RegistryClient } from '@argmax/registry-service/client'
import type { RunningRegistryService } from '@argmax/registry-service'
import { readStoredObject } from '@argmax/storage'
import { uniqueName } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PipelineDetails } from '../../src/api/pipelines.contract.ts'
import {
  startGatewayHarness,
  type GatewayHarness,
} from '../../../inference/test/gateway/support/gateway-harness.ts'
import { startTrainingHarness, type TrainingHarness } from '../support/harness.ts'
import { vega } from '../trainers/support.ts'
import { startRegistryBeside } from '../support/registry-beside.ts'

/**
 * Retrain pipelines against the real stack: the training service (real xgboost trainer), a
 * real registry beside it following its TRAINING stream and an inference gateway with a model
 * server following the registry (the warm step), all on the test kit's NATS, PostgreSQL and S3. Feedback's `RetrainRequested` is appended to a FEEDBACK-like stream as
 * the feedback service does.
 */
describe('retrain pipelines', () => {
  let h: TrainingHarness
  let registry: RunningRegistryService
  let gateway: GatewayHarness
  let registryAsAdmin: RegistryClient
  let store: EventStore
  let feedback: { stream: string; root: string }
  let baseVersionId: string
  const model = 'movies-pipe'

  beforeAll(async () => {
    const secret = generateDevSecret()
    const trainingNames = { stream: uniqueName('TRAINING'), root: uniqueName('tr') }
    const setup = await startRegistryBeside({ secret, training: trainingNames })
    registry = setup.registry
    registryAsAdmin = setup.asAdmin
    feedback = { stream: uniqueName('FEEDBACK'), root: uniqueName('fb') }
    await ensureStreams(await setup.nc.jetstreamManager(), [
      { name: feedback.stream, subjects: [`${feedback.root}.>`], retention: 'limits' },
    ])
    store = createEventStore({ nc: setup.nc })
    const datasetNames = { stream: uniqueName('DATASET'), root: uniqueName('ds') }
    gateway = await startGatewayHarness({
      secret,
      registryNames: setup.names,
      datasetNames,
      modelServers: 1,
      listen: true,
    })
    h = await startTrainingHarness({
      secret,
      names: trainingNames,
      datasetNames,
      pipelines: {
        registryUrl: registry.url!,
        inferenceUrl: gateway.gateway.url!,
        registryNames: setup.names,
        feedbackNames: feedback,
        sweepMs: 500,
      },
    })
    // A small slice of the movies table keeps every training run to seconds.
    baseVersionId = (await h.uploadVersion(h.tokens.alice, vega('movies').slice(0, 600))).versionId
  }, 180_000)

  afterAll(async () => {
    await h?.stop()
    await registry?.stop()
    await gateway?.stop()
  })

  const pipelineBody = (over: Record<string, unknown> = {}) => ({
    model,
    data: { source: 'base', datasetVersionId: baseVersionId },
    training: { target: 'IMDB Rating', trainer: 'xgboost', params: { n_estimators: 20 }, seed: 3 },
    evaluation: { metric: 'mae', direction: 'lower_is_better', margin: 0 },
    ...over,
  })

  const show = async (token = h.tokens.root) => {
    const response = await h.call<PipelineDetails>('GET', `/v1/pipelines/${model}`, token)
    expect(response.status).toBe(200)
    return response.body
  }

  async function waitForRun(
    until: (d: PipelineDetails) => boolean,
    what: string,
    timeoutMs = 150_000,
  ): Promise<PipelineDetails> {
    const deadline = Date.now() + timeoutMs
    let last: PipelineDetails | undefined
    while (Date.now() < deadline) {
      last = await show()
      if (until(last)) return last
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    throw new Error(
      `pipeline never got to ${what}; last: ${JSON.stringify(last?.pipeline.current)}`,
    )
  }

  const retrainRequested = (reason: string): Promise<unknown> => {
    const data: RetrainRequestedData = {
      model,
      trigger: 'monitor',
      monitorId: 'mae-monitor',
      reason,
      evidence: { metric: 'mae', value: 0.9, threshold: 0.8 },
      requestedAt: new Date().toISOString(),
    }
    return store.append(`${feedback.root}.model.${model}`, [{ type: 'RetrainRequested', data }], {
      expectedLastSubjectSequence: 'any',
      meta: { actor: 'system:feedback' },
    })
  }

  const pipelineEvents = async (): Promise<RecordedEvent[]> =>
    h.events(`${h.names.root}.pipeline.${model}`)

  it('refuses bad input by field, analysts and other users', async () => {
    const bad = await h.call('POST', '/v1/pipelines', h.tokens.alice, {
      ...pipelineBody(),
      evaluation: { metric: 'mae', direction: 'sideways' },
    })
    expect(bad.status).toBe(400)
    expect(JSON.stringify(bad.body)).toContain('direction')
    const cron = await h.call('POST', '/v1/pipelines', h.tokens.alice, {
      ...pipelineBody(),
      triggers: { schedule: '61 * * * *' },
    })
    expect(cron.status).toBe(400)
    expect(JSON.stringify(cron.body)).toContain('/triggers/schedule')
    const param = await h.call('POST', '/v1/pipelines', h.tokens.alice, {
      ...pipelineBody(),
      training: { target: 'IMDB Rating', params: { max_depth: 100 } },
    })
    expect(param.status).toBe(400)
    expect(JSON.stringify(param.body)).toContain('/training/params/max_depth')
    const analyst = await h.call('POST', '/v1/pipelines', h.tokens.ann, pipelineBody())
    expect(analyst.status).toBe(403)
    expect(await h.call('GET', `/v1/pipelines/${model}`, h.tokens.alice)).toMatchObject({
      status: 404,
    })
  })

  it('concurrent triggers for one model start exactly one run; it trains, registers and releases once', async () => {
    const key = { 'idempotency-key': 'create-movies-pipe' }
    const created = await h.call('POST', '/v1/pipelines', h.tokens.alice, pipelineBody(), key)
    expect(created.status).toBe(201)
    // The same create again under its key: the same pipeline, nothing new.
    const again = await h.call('POST', '/v1/pipelines', h.tokens.alice, pipelineBody(), key)
    expect(again.status).toBe(201)
    expect((await pipelineEvents()).filter((e) => e.type === 'PipelineCreated')).toHaveLength(1)
    // Others do not see it.
    expect((await h.call('GET', `/v1/pipelines/${model}`, h.tokens.bob)).status).toBe(404)

    // Six admin triggers and six monitors firing, all at once.
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) =>
        h.call('POST', `/v1/pipelines/${model}/trigger`, h.tokens.root, { reason: `by hand ${i}` }),
      ),
      ...Array.from({ length: 6 }, (_, i) => retrainRequested(`mae above 0.8 (${i})`)),
    ])
    for (const answer of answers.slice(0, 6)) expect(answer).toMatchObject({ status: 200 })

    const done = await waitForRun(
      (d) => d.pipeline.current?.status !== 'running' && d.pipeline.current !== null,
      'the end of run 1',
    )
    const run = done.pipeline.current!
    expect(run).toMatchObject({
      pipelineRunId: `${model}.1`,
      status: 'completed',
      version: 1,
      rolloutId: null, // nothing served: released as the first stable
      gate: {
        passed: true,
        reasons: ['nothing serves the model yet: there is no version to beat'],
      },
    })
    const events = await pipelineEvents()
    expect(events.filter((e) => e.type === 'PipelineRunStarted')).toHaveLength(1)
    // Every other trigger was recorded against run 1 (those arriving after its end, if any,
    // would start run 2 — the run takes seconds, the triggers milliseconds).
    expect(events.filter((e) => e.type === 'PipelineTriggerCoalesced')).toHaveLength(11)
    expect(events.map((e) => e.type).filter((t) => !t.startsWith('PipelineTrigger'))).toEqual([
      'PipelineCreated',
      'PipelineRunStarted',
      'PipelineDataPrepared',
      'PipelineTrainingStarted',
      'PipelineTrainingFinished',
      'PipelineEvaluated',
      'PipelineGatePassed',
      'PipelineRegistered',
      'PipelineWarmed',
      'PipelineHandedOver',
    ])
    // The gateway loaded the challenger before the release named it, and the step saw it.
    const warmed = events.find((e) => e.type === 'PipelineWarmed')!
    expect(warmed.data).toMatchObject({ version: 1 })
    expect(warmed.data).not.toHaveProperty('skipped')
    expect(gateway.modelServers[0]!.server.repository.index()).toContainEqual(
      expect.objectContaining({ name: model, version: '1', state: 'READY' }),
    )
    // Exactly one training run was submitted.
    const queued = (await h.events(`${h.names.root}.run.>`)).filter(
      (e) => e.type === 'TrainingRunQueued',
    )
    expect(queued).toHaveLength(1)
    expect(queued[0]!.data).toMatchObject({ model, ownerId: 'alice' })
    // The registry did what the pipeline asked: challenger → 1, released as stable.
    const aliases = await registryAsAdmin.listAliases({ params: { name: model } })
    expect(aliases.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ alias: 'challenger', version: 1 })]),
    )
    expect((await registryAsAdmin.getRelease({ params: { name: model } })).release).toMatchObject({
      stable: 1,
    })
    // The timeline shows the steps with their numbers.
    const finished = done.timeline.find((e) => e.type === 'PipelineTrainingFinished')!
    expect(finished.data).toMatchObject({ outcome: 'succeeded', datasetVersionId: baseVersionId })
    expect(typeof (finished.data['metrics'] as Record<string, number>)['mae']).toBe('number')
  }, 240_000)

  it('a gate failure stops the run with the numbers: never challenger, never rolled out', async () => {
    // The same data and seed as version 1: the same model — on the holdout it cannot be 50 %
    // better.
    const update = await h.call('PUT', `/v1/pipelines/${model}`, h.tokens.alice, {
      ...pipelineBody({ evaluation: { metric: 'mae', direction: 'lower_is_better', margin: 0.5 } }),
      model: undefined,
    })
    expect(update.status).toBe(200)
    await retrainRequested('mae above 0.8 again')
    const done = await waitForRun(
      (d) =>
        d.pipeline.current?.pipelineRunId === `${model}.2` &&
        d.pipeline.current.status !== 'running',
      'the end of run 2',
    )
    const run = done.pipeline.current!
    expect(run.status).toBe('gate_failed')
    expect(run.holdoutRows).toBeGreaterThan(0)
    expect(run.servingVersion).toBe(1)
    const [check] = run.checks
    expect(check).toMatchObject({ metric: 'mae', role: 'gate', required: 0.5, passed: false })
    expect(check!.candidate).toBeTypeOf('number')
    expect(check!.serving).toBeTypeOf('number')
    expect(run.gate?.reasons[0]).toMatch(/^mae .* below the margin 50\.00 %$/)
    // The comparison in full is in the models bucket, referenced by the event.
    const evaluated = done.timeline.find((e) => e.type === 'PipelineEvaluated')!
    const details = evaluated.data['details'] as StoredObject
    expect(details.uri).toBe(`s3://${h.bucket}/pipelines/${model}/${model}.2/evaluation.json`)
    const stored = JSON.parse(
      (await readStoredObject(h.training.deps.s3, details, { maxBytes: 1 << 20 })).toString('utf8'),
    ) as { gate: { passed: boolean }; checks: unknown[] }
    expect(stored.gate.passed).toBe(false)
    expect(stored.checks).toEqual(run.checks)
    expect(done.timeline.map((e) => e.type)).not.toContain('PipelineRegistered')
    // The registry registered the run's version (it registers every run) but the pipeline
    // moved nothing: challenger still 1, the release untouched, no rollout.
    const aliases = await registryAsAdmin.listAliases({ params: { name: model } })
    expect(aliases.items.find((a) => a.alias === 'challenger')?.version).toBe(1)
    expect((await registryAsAdmin.getRelease({ params: { name: model } })).release).toEqual({
      stable: 1,
    })
    expect((await registryAsAdmin.listRollouts({ query: { model } })).items).toHaveLength(0)
  }, 240_000)

  it('approve and abort are for admins (users get 403); an approved run, its dataset re-scored by the candidate, hands over to a rollout', async () => {
    const update = await h.call('PUT', `/v1/pipelines/${model}`, h.tokens.alice, {
      ...pipelineBody({
        requireApproval: true,
        rollout: { steps: [10, 100] },
        rescore: { datasetVersionId: baseVersionId },
      }),
      model: undefined,
    })
    expect(update.status).toBe(200)
    // Users may not trigger, approve or abort.
    for (const op of ['trigger', 'approve', 'abort']) {
      const denied = await h.call('POST', `/v1/pipelines/${model}/${op}`, h.tokens.alice, {
        reason: 'me',
      })
      expect(denied.status, op).toBe(403)
    }
    // Nothing waits for approval: 409.
    expect(
      (await h.call('POST', `/v1/pipelines/${model}/approve`, h.tokens.root, { reason: 'x' }))
        .status,
    ).toBe(409)
    expect(
      (await h.call('POST', `/v1/pipelines/${model}/trigger`, h.tokens.root, { reason: 'run 3' }))
        .status,
    ).toBe(200)
    const waiting = await waitForRun(
      (d) => d.pipeline.current?.step === 'awaiting_approval',
      'approval',
    )
    // Before the approval: the candidate re-scored the dataset (a batch prediction, the
    // owner's), while version 1 kept serving.
    const rescore = waiting.pipeline.current!.rescore!
    expect(rescore).toMatchObject({ rows: 600, rowsFailed: 0 })
    expect(rescore.result).toMatch(/^s3:\/\/.+\/predictions\.jsonl$/)
    const batch = await gateway.rest<{ ownerId: string; version: number; status: string }>(
      'GET',
      `/v1/batch-predictions/${rescore.batchId}`,
      gateway.tokens.alice,
    )
    expect(batch.body).toMatchObject({ ownerId: 'alice', version: 3, status: 'SUCCEEDED' })
    expect((await registryAsAdmin.getRelease({ params: { name: model } })).release).toEqual({
      stable: 1,
    })
    const approved = await h.call<{ pipeline: { current: { approvedBy: string } } }>(
      'POST',
      `/v1/pipelines/${model}/approve`,
      h.tokens.root,
      { reason: 'numbers look right' },
    )
    expect(approved.status).toBe(200)
    const done = await waitForRun(
      (d) =>
        d.pipeline.current?.pipelineRunId === `${model}.3` &&
        d.pipeline.current.status !== 'running',
      'the hand-over of run 3',
    )
    const run = done.pipeline.current!
    expect(run).toMatchObject({ status: 'completed', version: 3, approvedBy: 'root' })
    expect(run.rolloutId).toMatch(new RegExp(`^${model}\\.\\d+$`))
    const rollout = await registryAsAdmin.getRollout({ params: { id: run.rolloutId! } })
    expect(rollout.rollout).toMatchObject({ candidate: 3, stable: 1, steps: [10, 100] })
    const aliases = await registryAsAdmin.listAliases({ params: { name: model } })
    expect(aliases.items.find((a) => a.alias === 'challenger')?.version).toBe(3)

    // Abort: a new run, aborted by an admin while it trains; its training run is cancelled.
    expect(
      (await h.call('POST', `/v1/pipelines/${model}/trigger`, h.tokens.root, { reason: 'run 4' }))
        .status,
    ).toBe(200)
    const training = await waitForRun(
      (d) =>
        d.pipeline.current?.pipelineRunId === `${model}.4` &&
        d.pipeline.current.trainingRunId !== null,
      'run 4 training',
    )
    const aborted = await h.call('POST', `/v1/pipelines/${model}/abort`, h.tokens.root, {
      reason: 'wrong data',
    })
    expect(aborted.status).toBe(200)
    const after = await show()
    expect(after.pipeline.current).toMatchObject({ status: 'aborted' })
    const trainingRunId = training.pipeline.current!.trainingRunId!
    const cancelled = await h.waitForRun(
      trainingRunId,
      (r) => r.status !== 'PENDING' && r.status !== 'TRAINING',
    )
    // Unless it finished first, the run was cancelled with the pipeline run.
    expect(['CANCELLED', 'READY']).toContain(cancelled.status)
    // An aborted run takes no more steps.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect((await show()).pipeline.current).toMatchObject({ status: 'aborted', version: null })
    // Nothing in progress to abort: 409.
    expect(
      (await h.call('POST', `/v1/pipelines/${model}/abort`, h.tokens.root, { reason: 'again' }))
        .status,
    ).toBe(409)
    // The list shows it to its owner and admins, not to others.
    const mine = await h.call<{ items: unknown[] }>('GET', '/v1/pipelines', h.tokens.alice)
    expect(mine.body.items).toHaveLength(1)
    const bobs = await h.call<{ items: unknown[] }>('GET', '/v1/pipelines', h.tokens.bob)
    expect(bobs.body.items).toHaveLength(0)
  }, 300_000)

  it("a candidate the gateway cannot load fails its run (warmup_failed) with the gateway's reason", async () => {
    const update = await h.call('PUT', `/v1/pipelines/${model}`, h.tokens.alice, {
      ...pipelineBody(),
      model: undefined,
    })
    expect(update.status).toBe(200)
    // The one model server is down: nothing can load the challenger.
    await gateway.modelServers[0]!.stop()
    expect(
      (await h.call('POST', `/v1/pipelines/${model}/trigger`, h.tokens.root, { reason: 'run 5' }))
        .status,
    ).toBe(200)
    const warming = await waitForRun(
      (d) =>
        d.pipeline.current?.pipelineRunId === `${model}.5` && d.pipeline.current.step === 'warming',
      'the warm step of run 5',
    )
    expect(warming.pipeline.current!.version).toBeGreaterThan(3)
    // Past ARGMAX_TRAINING_PIPELINE_WAIT_SECONDS since the registration (the injected clock).
    h.clock.advance(601_000)
    const done = await waitForRun(
      (d) =>
        d.pipeline.current?.pipelineRunId === `${model}.5` &&
        d.pipeline.current.status !== 'running',
      'the end of run 5',
    )
    expect(done.pipeline.current!.failure).toMatchObject({ reason: 'warmup_failed' })
    expect(done.pipeline.current!.failure!.message).toMatch(
      /^version \d+ of model movies-pipe was not loaded on any model server within 600 s of its registration: version \d+ of model movies-pipe is not serving: no model server holding it is reachable \(/,
    )
    // Never handed over: version 1 still serves alone.
    expect((await registryAsAdmin.getRelease({ params: { name: model } })).release).toEqual({
      stable: 1,
    })
  }, 300_000)
})
