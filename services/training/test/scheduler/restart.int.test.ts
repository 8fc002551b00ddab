import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { createLogger } from '@argmax/telemetry'
import { freePort } from '@argmax/stack'
import { type ApiCall, connectNats, freshBucket, httpApi, uniqueName } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunDetailView } from '../../src/api/contract.ts'
import { runSubjects } from '../../src/streams.ts'
import {
  freshForeignStreams,
  moviesRun,
  readStream,
  startDatasetSide,
  uploadThroughDataset,
} from '../support/harness.ts'
import { startTrainingProcess, trainingProcessEnv } from '../support/service-process.ts'
import { vega, writeCsv } from '../trainers/support.ts'

/**
 * The training service as a process (its main.ts), SIGKILLed while runs train, then started
 * again: its jobs outlived it and are found again from the local runner's job directories;
 * every run ends READY or FAILED, none is lost, none is trained twice.
 */
describe('a restart of the training service mid-run', { timeout: 600_000 }, () => {
  const secret = generateDevSecret()
  const work = mkdtempSync(join(tmpdir(), 'argmax-training-restart-'))
  const names = { stream: uniqueName('TRAINING'), root: uniqueName('tr') }
  let env: Record<string, string>
  let service: ChildProcess | undefined
  let url: string
  let api: ApiCall
  let token: string
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
    token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 3600 })
    const csv = join(work, 'movies.csv')
    writeCsv(csv, vega('movies'))
    ;({ versionId } = await uploadThroughDataset(side.dataset, token, readFileSync(csv), 'movies'))
    const { bucket } = await freshBucket('models')
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    api = httpApi(url)
    const foreign = await freshForeignStreams(nc)
    env = trainingProcessEnv({
      port,
      secret,
      bucket,
      workDir: join(work, 'runner'),
      streams: { training: names, dataset: side.datasetNames, ...foreign },
      extra: {
        ARGMAX_TRAINING_LOCAL_SLOTS: '2',
        ARGMAX_TRAINING_RETRY_BACKOFF_SECONDS: '1',
      },
    })
    service = await startService()
  })
  afterAll(async () => {
    service?.kill('SIGTERM')
    if (service && service.exitCode === null) await once(service, 'exit')
    // The jobs outlive the service by design: end what is left of them.
    for (const key of readdirSync(join(work, 'runner', 'jobs'), {
      withFileTypes: false,
    }) as string[]) {
      try {
        const pid = Number(readFileSync(join(work, 'runner', 'jobs', key, 'pid'), 'utf8'))
        process.kill(-pid, 'SIGKILL')
      } catch {
        // gone
      }
    }
    await stopDataset?.()
    rmSync(work, { recursive: true, force: true })
  })

  it('every run ends READY or FAILED; none is lost, none trained twice', async () => {
    // The two that train are long enough to be killed midway; the one that waits for a slot
    // only has to be scheduled once, after the restart: it trains the default 60 rounds.
    const long = moviesRun(versionId, {
      params: { n_estimators: 600, learning_rate: 0.02, early_stopping_rounds: null },
      checkpointEvery: 50,
    })
    const bodies = [long, long, moviesRun(versionId)]
    const ids: string[] = []
    for (const [i, body] of bodies.entries()) {
      // Training's copy of the version may be a moment behind the dataset service's.
      let response = await api<{ id: string }>('POST', '/v1/runs', token, { ...body, seed: i })
      for (let tries = 0; response.status === 404 && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        response = await api<{ id: string }>('POST', '/v1/runs', token, { ...body, seed: i })
      }
      expect(response.status, JSON.stringify(response.body)).toBe(201)
      ids.push(response.body.id)
    }
    // Two train (two slots), one waits; kill the service while the two are mid-training.
    const deadline = Date.now() + 180_000
    for (;;) {
      const runs = await Promise.all(
        ids.map((id) => api<RunDetailView>('GET', `/v1/runs/${id}`, token)),
      )
      const midway = runs.filter(
        (r) => r.body.status === 'TRAINING' && (r.body.progress?.iteration ?? 0) >= 60,
      )
      if (midway.length === 2) break
      if (Date.now() > deadline)
        throw new Error(`not two runs midway: ${JSON.stringify(runs.map((r) => r.body.status))}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    service!.kill('SIGKILL')
    await once(service!, 'exit')
    // Started again at once: its start-up (seconds) is the time the trainers find no API.
    service = await startService()

    const finished = async () => {
      const end = Date.now() + 300_000
      for (;;) {
        const runs = (
          await Promise.all(ids.map((id) => api<RunDetailView>('GET', `/v1/runs/${id}`, token)))
        ).map((r) => r.body)
        if (runs.every((r) => ['READY', 'FAILED'].includes(r.status))) return runs
        if (Date.now() > end)
          throw new Error(
            `still running: ${JSON.stringify(runs.map((r) => [r.status, r.attempts, r.failure]))}`,
          )
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
    const runs = await finished()
    expect(runs.map((r) => r.status)).toEqual(['READY', 'READY', 'READY'])

    const events = await readStream(nc, names.stream, runSubjects(names))
    for (const id of ids) {
      const own = events.filter((e) => (e.data as { runId: string }).runId === id)
      expect(own.filter((e) => e.type === 'TrainingRunQueued')).toHaveLength(1)
      expect(own.filter((e) => e.type === 'TrainingRunSucceeded')).toHaveLength(1)
      const starts = own
        .filter((e) => e.type === 'TrainingAttemptStarted')
        .map((e) => (e.data as { attempt: number }).attempt)
      expect(new Set(starts).size).toBe(starts.length)
    }
    // The two runs that were training kept their first attempt: found again, not restarted.
    const keptFirst = runs.filter(
      (r) => r.attempts.length === 1 && r.attempts[0]!.outcome === 'succeeded',
    )
    expect(keptFirst.length, JSON.stringify(runs.map((r) => r.attempts))).toBe(3)
    // One process per attempt: one job directory each.
    const jobs = readdirSync(join(work, 'runner', 'jobs')).sort()
    expect(jobs).toEqual(ids.map((id) => `${id}.1`).sort())
  })
})
