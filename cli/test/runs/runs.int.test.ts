import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { RunDetailView, RunView } from '@argmax/training-service/client'
// The training service in this process, on a real port, with the dataset service beside it,
// the local runner and Debian's XGBoost, against the test kit's servers.
import {
  startTrainingHarness,
  type TrainingHarness,
  type User,
} from '../../../services/training/test/support/harness.ts'
import { registerRunCommands } from '../../src/runs/index.ts'

describe('argmax runs against the training service', { timeout: 300_000 }, () => {
  let h: TrainingHarness
  let versionId: string
  let readyRun: RunDetailView
  const printed: string[] = []
  const progress: string[] = []

  const program = (user: User) => {
    const command = new Command().exitOverride()
    registerRunCommands(command, { apiUrl: h.training.url!, token: h.tokens[user], json: false })
    return command
  }
  const run = async (user: User, ...args: string[]) => {
    const log = vi
      .spyOn(console, 'log')
      .mockImplementation((line: string) => void printed.push(line))
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const write = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((text: string | Uint8Array) => (progress.push(String(text)), true))
    try {
      await program(user).parseAsync(['node', 'argmax', 'runs', ...args])
    } finally {
      log.mockRestore()
      err.mockRestore()
      write.mockRestore()
    }
    return printed.pop()!
  }
  const json = async <T>(user: User, ...args: string[]) =>
    JSON.parse(await run(user, ...args, '--json')) as T
  const movies = () => [
    '--model',
    'movies-rating',
    '--dataset-version',
    versionId,
    '--target',
    'IMDB Rating',
  ]

  beforeAll(async () => {
    h = await startTrainingHarness({ trainer: 'real' })
    ;({ versionId } = await h.uploadVersion(h.tokens.alice))
  })
  afterAll(() => h?.stop())

  it('creates an xgboost run and follows it to READY with a progress line', async () => {
    process.exitCode = undefined
    readyRun = await json<RunDetailView>(
      'alice',
      'create',
      ...movies(),
      '--param',
      'n_estimators=80',
      '--param',
      'max_depth=4',
      '--seed',
      '7',
      '--follow',
    )
    expect(readyRun).toMatchObject({
      status: 'READY',
      ownerId: 'alice',
      target: 'IMDB Rating',
      seed: 7,
      trainer: { name: 'xgboost' },
      params: { n_estimators: 80, max_depth: 4 },
    })
    expect(process.exitCode).toBeUndefined()
    expect(readyRun.metrics!['rmse']).toBeLessThan(readyRun.metrics!['baseline_rmse']!)
    // Not a terminal here: one line each time the status, attempt or iteration changes (how
    // many depends on how fast the trainer is; each is a progress line).
    for (const line of progress.filter((text) => !text.startsWith('queued run'))) {
      expect(line).toMatch(
        /^(PENDING|TRAINING|READY)( · attempt 1\/3)?( · iteration \d+\/\d+( · [\w-]+ [0-9.]+)?)? · [0-9hms]+\n$/,
      )
    }
    expect(progress.at(-1)!.trimEnd()).toMatch(
      /^READY · attempt 1\/3 · iteration \d+\/80 · validation-rmse [0-9.]+ · [0-9hms]+$/,
    )
  })

  it('lists, shows (test metrics next to the baseline) and prints the log', async () => {
    const page = await json<{ items: RunView[] }>('alice', 'list', '--dataset-version', versionId)
    expect(page.items.map((r) => r.id)).toContain(readyRun.id)
    expect(await run('alice', 'list', '--status', 'READY')).toMatch(
      new RegExp(`^ID +MODEL +STATUS[\\s\\S]*${readyRun.id} +movies-rating +READY +xgboost`),
    )
    const shown = await run('alice', 'show', readyRun.id)
    expect(shown).toContain(`status     READY`)
    expect(shown).toMatch(/METRIC +MODEL +BASELINE\n(?:.*\n)*rmse +[0-9.]+ +[0-9.]+/)
    expect(await json('alice', 'show', readyRun.id)).toMatchObject({ id: readyRun.id })
    const logs = await json<{ attempt: number; text: string }>('alice', 'logs', readyRun.id)
    expect(logs.attempt).toBe(1)
    expect(logs.text).toContain('test:')
  })

  it('cancels a run; another user cannot see it; retry is for admins', async () => {
    const created = await json<{ id: string }>(
      'alice',
      'create',
      ...movies(),
      '--param',
      'n_estimators=5000',
      '--param',
      'early_stopping_rounds=null',
    )
    await expect(run('bob', 'show', created.id)).rejects.toMatchObject({ status: 404 })
    await expect(run('bob', 'cancel', created.id)).rejects.toMatchObject({ status: 404 })
    const cancelled = await json<{ run: RunView }>('alice', 'cancel', created.id)
    expect(cancelled.run.status).toBe('CANCELLED')
    await expect(run('alice', 'retry', created.id)).rejects.toMatchObject({ status: 403 })
    await expect(run('root', 'retry', created.id)).rejects.toMatchObject({ status: 409 })
  })

  it('refuses a bad parameter with the field named, before anything is queued', async () => {
    await expect(
      run('alice', 'create', ...movies(), '--param', 'max_depth=500'),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('max_depth') })
    await expect(run('alice', 'create', ...movies(), '--param', 'oops')).rejects.toThrow(
      "--param takes NAME=VALUE, got 'oops'",
    )
  })
})
