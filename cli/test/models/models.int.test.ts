import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { LINEAR_SIGNATURE } from '@argmax/testkit/onnx-models'
// The registry in this process, on a real port, against the test kit's servers.
import {
  fakeRun,
  type Harness,
  publishRun,
  registeredVersion,
  startHarness,
  testModels,
} from '../../../services/registry/test/support/harness.ts'
import { parseMetrics, registerModelCommands } from '../../src/models/index.ts'

describe('argmax models against the registry', () => {
  let h: Harness
  let dir: string
  let program: Command
  const printed: string[] = []
  const run = async (...args: string[]) => {
    const log = vi
      .spyOn(console, 'log')
      .mockImplementation((line: string) => void printed.push(line))
    try {
      await program.parseAsync(['node', 'argmax', 'models', ...args])
    } finally {
      log.mockRestore()
    }
    return printed.pop()!
  }
  const json = async <T>(...args: string[]) => JSON.parse(await run(...args, '--json')) as T

  beforeAll(async () => {
    h = await startHarness({ listen: true })
    dir = mkdtempSync(join(tmpdir(), 'argmax-cli-models-'))
    program = new Command().exitOverride()
    registerModelCommands(program, { apiUrl: h.service.url!, token: h.tokens.alice, json: false })
    // Two versions from training runs.
    for (const [i, rmse] of [0.95, 0.87].entries()) {
      await publishRun(
        h,
        await fakeRun(h, {
          model: 'movies',
          ownerId: 'alice',
          metrics: { rmse, r2: 0.4 + i / 10 },
        }),
      )
    }
    await registeredVersion(h, 'movies', 2, h.tokens.alice)
  })
  afterAll(async () => {
    await h.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('registers an ONNX file with its signature and metrics, creating the model', async () => {
    const { linear } = await testModels()
    writeFileSync(join(dir, 'model.onnx'), linear)
    writeFileSync(join(dir, 'schema.json'), JSON.stringify(LINEAR_SIGNATURE))
    const version = await json<{ version: number; metrics: Record<string, number> }>(
      'register',
      'handmade',
      join(dir, 'model.onnx'),
      '--signature',
      join(dir, 'schema.json'),
      '--metrics',
      'rmse=0.5,r2=0.9',
      '--create',
    )
    expect(version).toMatchObject({ version: 1, metrics: { rmse: 0.5, r2: 0.9 } })
    expect(await run('show', 'handmade', '1')).toContain(
      'INPUT  DATATYPE  SHAPE  NULLABLE  CATEGORIES\nx1     FP32      [-1]   true',
    )
  })

  it('prints versions with their metrics side by side, compared by one', async () => {
    const text = await run('versions', 'movies', '--compare', 'rmse')
    const [header, first, second] = text.split('\n')
    expect(header).toMatch(/^VERSION\s+STATUS\s+ALIASES\s+SERVED\s+RMSE\s+R2\s+SOURCE/)
    expect(first).toMatch(/^2\s+active\s+latest\s+-\s+0\.870000\s+0\.500000\s+run /)
    expect(second).toMatch(/^1\s+active\s+-\s+-\s+0\.950000\s+0\.400000/)
    expect(text).toContain('(sorted by rmse, lowest first)')
  })

  it('sets aliases, releases, rolls back, and shows the lineage', async () => {
    expect(await run('alias', 'movies', 'challenger', '2')).toBe('movies: challenger → 2')
    const released = await run('release', 'movies', '--stable', '1', '--reason', 'first')
    expect(released).toContain('movies: stable 1')
    const canary = await run(
      'release',
      'movies',
      '--stable',
      '1',
      '--canary',
      '2:10',
      '--reason',
      'try two',
    )
    expect(canary).toContain('stable 1 · canary 2 at 10 %')
    expect(await run('rollback', 'movies', '--reason', 'errors')).toContain(
      'movies: stable 1\n  rollback by alice',
    )
    const history = await json<{ items: Array<{ kind: string }> }>('release', 'movies', '--history')
    expect(history.items.map((c) => c.kind)).toEqual(['rollback', 'set', 'set'])
    const model = await json<{ release: { stable: number }; aliases: Record<string, number> }>(
      'show',
      'movies',
    )
    expect(model).toMatchObject({
      release: { stable: 1 },
      aliases: { champion: 1, challenger: 2, latest: 2 },
    })
    const lineage = await run('lineage', 'movies', 'champion')
    expect(lineage.split('\n')).toEqual([
      'dataset ds-movies',
      expect.stringMatching(/^ {2}└─ dataset version dsv-1 {2}\(sha256=[0-9a-f]{64}\)$/),
      expect.stringMatching(
        /^ {4}└─ training run run-[0-9a-f]+ {2}\(trainer=xgboost trainerVersion=test target=y seed=1\)$/,
      ),
      '      └─ attempt 1  (attempt=1)',
      expect.stringMatching(/^ {8}└─ movies version 1 {2}\(artifact=s3:\/\//),
    ])
  })

  it('reads metrics as pairs, JSON, or a trainer’s metrics.json', async () => {
    expect(await parseMetrics('rmse=0.9, mae = 0.6')).toEqual({ rmse: 0.9, mae: 0.6 })
    expect(await parseMetrics('{"rmse": 1, "note": "x"}')).toEqual({ rmse: 1 })
    writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ test: { rmse: 0.8, r2: null } }))
    expect(await parseMetrics(join(dir, 'metrics.json'))).toEqual({ rmse: 0.8 })
    await expect(parseMetrics('rmse=high')).rejects.toThrow("'rmse=high' is not name=number")
  })
})
