import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { PipelineDetails, PipelineView } from '@argmax/training-service/client'
// The training service in this process, on a real port, with the dataset service beside it,
// the local runner and Debian's XGBoost, against the test kit's servers.
import {
  startTrainingHarness,
  type TrainingHarness,
  type User,
} from '../../../services/training/test/support/harness.ts'
import { vega } from '../../../services/training/test/trainers/support.ts'
import { registerPipelineCommands } from '../../src/pipelines/index.ts'

describe('argmax pipelines against the training service', { timeout: 300_000 }, () => {
  let h: TrainingHarness
  let versionId: string
  const work = mkdtempSync(join(tmpdir(), 'argmax-cli-pipelines-'))
  const printed: string[] = []

  const run = async (user: User, ...args: string[]) => {
    const command = new Command().exitOverride()
    registerPipelineCommands(command, {
      apiUrl: h.training.url!,
      token: h.tokens[user],
      json: false,
    })
    const log = vi
      .spyOn(console, 'log')
      .mockImplementation((line: string) => void printed.push(line))
    try {
      await command.parseAsync(['node', 'argmax', 'pipelines', ...args])
    } finally {
      log.mockRestore()
    }
    return printed.pop()!
  }

  beforeAll(async () => {
    h = await startTrainingHarness()
    versionId = (await h.uploadVersion(h.tokens.alice, vega('movies'))).versionId
  }, 120_000)
  afterAll(async () => {
    await h?.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('creates, lists, shows with a timeline; trigger and abort are for admins', async () => {
    const file = join(work, 'pipeline.json')
    writeFileSync(
      file,
      JSON.stringify({
        model: 'movies-cli',
        data: { source: 'base', datasetVersionId: versionId },
        training: {
          target: 'IMDB Rating',
          // Long enough to be aborted while it trains.
          params: { n_estimators: 2000, learning_rate: 0.01, early_stopping_rounds: null },
        },
        evaluation: { metric: 'mae', direction: 'lower_is_better', margin: 0.01 },
      }),
    )
    const created = JSON.parse(await run('alice', 'create', '-f', file, '--json')) as {
      pipeline: PipelineView
    }
    expect(created.pipeline).toMatchObject({ model: 'movies-cli', ownerId: 'alice', runs: 0 })

    await expect(run('alice', 'trigger', 'movies-cli', '-r', 'me')).rejects.toMatchObject({
      status: 403,
    })
    expect(await run('root', 'trigger', 'movies-cli', '-r', 'new labels')).toMatch(
      /^pipeline movies-cli: run movies-cli\.1 running \(step /,
    )

    // The listing comes from the projection: it catches up.
    let listed = ''
    for (let i = 0; i < 50 && !listed.includes('movies-cli.1'); i++) {
      listed = await run('alice', 'list')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(listed).toContain('movies-cli.1')
    expect(JSON.parse(await run('bob', 'list', '--json'))).toEqual({ items: [] })

    // Wait for its training run, then abort it.
    let details: PipelineDetails | undefined
    for (let i = 0; i < 200; i++) {
      details = JSON.parse(await run('alice', 'show', 'movies-cli', '--json')) as PipelineDetails
      if (details.pipeline.current?.trainingRunId) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(details?.pipeline.current?.trainingRunId).toBeTruthy()
    const shown = await run('alice', 'show', 'movies-cli')
    expect(shown).toContain('run movies-cli.1: running (step training)')
    expect(shown).toContain('triggered by root (manual): new labels')
    expect(shown).toContain(`data: base dataset version ${versionId}`)

    await expect(run('alice', 'abort', 'movies-cli', '-r', 'me')).rejects.toMatchObject({
      status: 403,
    })
    expect(await run('root', 'abort', 'movies-cli', '-r', 'wrong data')).toBe(
      'pipeline movies-cli: run movies-cli.1 aborted (step ended)',
    )
    expect(await run('alice', 'show', 'movies-cli')).toContain('aborted by root: wrong data')
    const trainingRun = await h.waitForRun(
      details!.pipeline.current!.trainingRunId!,
      (r) => r.status !== 'PENDING' && r.status !== 'TRAINING',
    )
    expect(trainingRun.status).toBe('CANCELLED')
  })
})
