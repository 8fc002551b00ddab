import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
// The registry in this process, on a real port, against the test kit's servers.
import {
  fakeRun,
  type Harness,
  publishRun,
  registeredVersion,
  startHarness,
} from '../../../services/registry/test/support/harness.ts'
import { registerRolloutCommands } from '../../src/rollouts/index.ts'
import { eventually } from '@argmax/testkit'

describe('argmax rollouts against the registry', () => {
  let h: Harness
  const printed: string[] = []
  const cli = (token: string) => {
    const program = new Command().exitOverride()
    registerRolloutCommands(program, { apiUrl: h.service.url!, token, json: false })
    return async (...args: string[]) => {
      const log = vi
        .spyOn(console, 'log')
        .mockImplementation((line: string) => void printed.push(line))
      try {
        await program.parseAsync(['node', 'argmax', 'rollouts', ...args])
      } finally {
        log.mockRestore()
      }
      return printed.pop()!
    }
  }

  beforeAll(async () => {
    h = await startHarness({ listen: true, analytics: true })
    for (let i = 0; i < 2; i++)
      await publishRun(h, await fakeRun(h, { model: 'movies', ownerId: 'alice' }))
    await registeredVersion(h, 'movies', 2, h.tokens.alice)
    await h.call('PUT', '/v1/models/movies/release', h.tokens.alice, { stable: 1, reason: 'v1' })
  })
  afterAll(() => h.stop())

  it('starts, lists, shows with a timeline, and lets only admins operate', async () => {
    const alice = cli(h.tokens.alice)
    const admin = cli(h.tokens.admin)
    const started = JSON.parse(
      await alice(
        'start',
        'movies',
        '2',
        '--reason',
        'v2 is better',
        '--steps',
        '20,100',
        '--window',
        '300',
        '--min-requests',
        '10',
        '--quality',
        'mae',
        '--min-labels',
        '10',
        '--max-degradation',
        '0.1',
        '--json',
      ),
    ) as { rollout: { rolloutId: string; steps: number[]; criteria: { windowSeconds: number } } }
    expect(started.rollout).toMatchObject({
      rolloutId: 'movies.1',
      steps: [20, 100],
      criteria: {
        windowSeconds: 300,
        minRequests: 10,
        quality: {
          metric: 'mae',
          direction: 'lower_is_better',
          minLabels: 10,
          maxDegradation: 0.1,
        },
      },
    })
    await expect(
      alice('start', 'movies', '2', '--reason', 'x', '--quality', 'mae', '--min-labels', '5'),
    ).rejects.toThrow('--quality needs --min-labels and --max-degradation')
    await eventually(
      async () => {
        await h.service.workers.rollouts.runOnce()
        const details = JSON.parse(await alice('show', 'movies.1', '--json')) as {
          rollout: { stepStartedAt: string | null }
        }
        return details.rollout.stepStartedAt ? true : undefined
      },
      30_000,
      'the first step',
    )
    const shown = await alice('show', 'movies.1')
    expect(shown).toContain('rollout movies.1: version 2 against stable 1 — running')
    expect(shown).toContain(
      "each held 300 s and 10 requests, 10 labels; mae at most 10 % worse than the stable's",
    )
    expect(shown).toContain('step 1: 20 % to the candidate')
    await eventually(
      async () => {
        const listed = await alice('list', '--active')
        return listed.includes('movies.1') ? listed : undefined
      },
      30_000,
      'the listing',
    )
    await expect(alice('pause', 'movies.1', '--reason', 'mine')).rejects.toThrow(
      /requires one of the roles admin/,
    )
    expect(await admin('pause', 'movies.1', '--reason', 'looking')).toBe('rollout movies.1: paused')
    expect(await admin('abort', 'movies.1', '--reason', 'not now')).toBe(
      'rollout movies.1: reverting',
    )
    await h.service.workers.rollouts.runOnce()
    const timeline = await admin('show', 'movies.1')
    expect(timeline).toContain('— aborted')
    expect(timeline).toMatch(/paused: looking {2}\(root\)/)
    expect(timeline).toContain('aborted: release stable 1')
  })
})
