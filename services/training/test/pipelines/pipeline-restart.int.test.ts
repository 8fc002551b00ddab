import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { ensureStreams } from '@argmax/events'
import type { RunningRegistryService } from '@argmax/registry-service'
import { createLogger } from '@argmax/telemetry'
import { freePort } from '@argmax/stack'
import { type ApiCall, connectNats, freshBucket, httpApi, uniqueName } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PipelineDetails } from '../../src/api/pipelines.contract.ts'
import { readStream, startDatasetSide, uploadThroughDataset } from '../support/harness.ts'
import { startTrainingProcess, trainingProcessEnv } from '../support/service-process.ts'
import { vega, writeCsv } from '../trainers/support.ts'
import { startRegistryBeside } from '../support/registry-beside.ts'

/**
 * The training service as a process (main.ts), SIGKILLed while its pipeline run trains, then
 * started again: the run resumes where its events say it is and finishes once — one training
 * run, one registration, one hand-over.
 */
describe('a restart of the training service mid-pipeline', { timeout: 600_000 }, () => {
  const secret = generateDevSecret()
  const work = mkdtempSync(join(tmpdir(), 'argmax-pipeline-restart-'))
  const names = { stream: uniqueName('TRAINING'), root: uniqueName('tr') }
  const model = 'movies-restart'
  let env: Record<string, string>
  let service: ChildProcess | undefined
  let registry: RunningRegistryService
  let url: string
  let api: ApiCall
  let alice: string
  let root: string
  let versionId: string
  let stopDataset: () => Promise<void>
  let nc: Awaited<ReturnType<typeof connectNats>>

  const startService = () => startTrainingProcess(url, env)

  beforeAll(async () => {
    nc = await connectNats()
    const side = await startDatasetSide(
      nc,
      secret,
      createLogger({ service: 'dataset-test', level: 'warn' }),
    )
    stopDataset = () => side.dataset.stop()
    alice = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 3600 })
    root = await mintDevToken({ secret, subject: 'root', roles: ['admin'], ttl: 3600 })
    const csv = join(work, 'movies.csv')
    writeCsv(csv, vega('movies'))
    ;({ versionId } = await uploadThroughDataset(side.dataset, alice, readFileSync(csv), 'movies'))

    const setup = await startRegistryBeside({ secret, training: names })
    registry = setup.registry
    const feedback = { stream: uniqueName('FEEDBACK'), root: uniqueName('fb') }
    await ensureStreams(await nc.jetstreamManager(), [
      { name: feedback.stream, subjects: [`${feedback.root}.>`], retention: 'limits' },
    ])

    const { bucket } = await freshBucket('models')
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    api = httpApi(url)
    env = trainingProcessEnv({
      port,
      secret,
      bucket,
      workDir: join(work, 'runner'),
      streams: {
        training: names,
        dataset: side.datasetNames,
        registry: setup.names,
        feedback,
      },
      extra: {
        ARGMAX_TRAINING_REGISTRY_URL: registry.url!,
        ARGMAX_TRAINING_PIPELINE_SWEEP_SECONDS: '1',
      },
    })
    service = await startService()
  }, 300_000)

  afterAll(async () => {
    service?.kill('SIGTERM')
    if (service && service.exitCode === null) await once(service, 'exit')
    try {
      for (const key of readdirSync(join(work, 'runner', 'jobs'))) {
        try {
          const pid = Number(readFileSync(join(work, 'runner', 'jobs', key, 'pid'), 'utf8'))
          process.kill(-pid, 'SIGKILL')
        } catch {
          // gone
        }
      }
    } catch {
      // no job directory
    }
    await registry?.stop()
    await stopDataset?.()
    rmSync(work, { recursive: true, force: true })
  })

  it('resumes the step it was in and finishes once', async () => {
    let created = await api('POST', '/v1/pipelines', alice, {
      model,
      data: { source: 'base', datasetVersionId: versionId },
      training: {
        target: 'IMDB Rating',
        params: { n_estimators: 600, learning_rate: 0.02, early_stopping_rounds: null },
        seed: 1,
      },
      evaluation: { metric: 'mae', direction: 'lower_is_better' },
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const triggered = await api('POST', `/v1/pipelines/${model}/trigger`, root, { reason: 'go' })
    expect(triggered.status).toBe(200)

    const show = () => api<PipelineDetails>('GET', `/v1/pipelines/${model}`, root)
    // Kill it while the pipeline's training run trains.
    const deadline = Date.now() + 180_000
    for (;;) {
      const { body } = await show()
      const runId = body.pipeline.current?.trainingRunId
      if (runId) {
        const run = await api<{ status: string; progress: { iteration: number } | null }>(
          'GET',
          `/v1/runs/${runId}`,
          root,
        )
        if (run.body.status === 'TRAINING' && (run.body.progress?.iteration ?? 0) >= 30) break
      }
      if (Date.now() > deadline) throw new Error(`never mid-training: ${JSON.stringify(body)}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    service!.kill('SIGKILL')
    await once(service!, 'exit')
    service = await startService()

    const end = Date.now() + 300_000
    let details: PipelineDetails
    for (;;) {
      details = (await show()).body
      if (details.pipeline.current?.status !== 'running') break
      if (Date.now() > end) throw new Error(`still running: ${JSON.stringify(details.pipeline)}`)
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    expect(details.pipeline.current).toMatchObject({ status: 'completed', version: 1 })
    const pipelineEvents = await readStream(nc, names.stream, `${names.root}.pipeline.${model}`)
    const count = (type: string) => pipelineEvents.filter((e) => e.type === type).length
    for (const type of [
      'PipelineRunStarted',
      'PipelineDataPrepared',
      'PipelineTrainingStarted',
      'PipelineTrainingFinished',
      'PipelineEvaluated',
      'PipelineGatePassed',
      'PipelineRegistered',
      'PipelineHandedOver',
    ]) {
      expect(count(type), type).toBe(1)
    }
    const runEvents = await readStream(nc, names.stream, `${names.root}.run.>`)
    expect(runEvents.filter((e) => e.type === 'TrainingRunQueued')).toHaveLength(1)
    expect(runEvents.filter((e) => e.type === 'TrainingRunSucceeded')).toHaveLength(1)
    created = await api('GET', `/v1/pipelines/${model}`, alice)
    expect(created.status).toBe(200)
  })
})
