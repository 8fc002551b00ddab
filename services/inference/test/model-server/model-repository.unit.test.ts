import { IllegalStateError, NotFoundError, UnavailableError } from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import {
  ModelRepository,
  parseLoadConfig,
  type VersionConfig,
} from '../../src/model-server/index.ts'
import type { ModelSession } from '../../src/model-server/onnx/onnx-session.ts'
import { ServedVersion } from '../../src/model-server/serving/served-version.ts'
import { LINEAR_SIGNATURE } from '@argmax/testkit/onnx-models'

const defaults = { maxBatchSize: 8, maxQueueDelayMicroseconds: 0, instanceCount: 1 }
const config = (sha: string, extra: Record<string, unknown> = {}): VersionConfig =>
  parseLoadConfig(
    {
      artifactUri: 's3://models/m.onnx',
      sha256: sha.repeat(64),
      signature: LINEAR_SIGNATURE,
      ...extra,
    },
    defaults,
  )

/**
 * The repository with loads the test completes by hand: each load waits until `finish` (or
 * `fail`) is called for it, so LOADING is a state the test can look at.
 */
function harness() {
  let now = 0
  const pending: {
    name: string
    version: string
    config: VersionConfig
    settle(error?: Error): void
  }[] = []
  const released: string[] = []
  const repository = new ModelRepository({
    now: () => now,
    backoff: { initialMs: 1_000, maxMs: 4_000 },
    loadVersion: (name, version, versionConfig) =>
      new Promise((resolve, reject) =>
        pending.push({
          name,
          version,
          config: versionConfig,
          settle(error) {
            if (error) return reject(error)
            const session: ModelSession = {
              run: async () => [],
              release: async () =>
                void released.push(`${name}/${version}/${versionConfig.sha256[0]}`),
            }
            resolve(new ServedVersion({ name, version, config: versionConfig, session }))
          },
        }),
      ),
  })
  const tick = () => new Promise((resolve) => setImmediate(resolve))
  return {
    repository,
    pending,
    released,
    tick,
    advance: (ms: number) => (now += ms),
    async finish(error?: Error) {
      pending.shift()!.settle(error)
      await tick()
    },
  }
}

describe('ModelRepository', () => {
  it('shows LOADING while a version loads, then READY; concurrent identical loads share it', async () => {
    const h = harness()
    const first = h.repository.load('m', '1', config('a'))
    const second = h.repository.load('m', '1', config('a'))
    await h.tick()
    expect(h.repository.index()).toEqual([
      { name: 'm', version: '1', state: 'LOADING', reason: '' },
    ])
    expect(() => h.repository.resolve('m', '1')).toThrow(
      new UnavailableError('version 1 of model m is loading'),
    )
    expect(h.repository.ready('m', '1').ready).toBe(false)
    expect(h.pending).toHaveLength(1)
    await h.finish()
    await Promise.all([first, second])
    expect(h.pending).toHaveLength(0)
    expect(h.repository.index(true)).toEqual([
      { name: 'm', version: '1', state: 'READY', reason: '' },
    ])
  })

  it('resolves the highest ready version when none is named', async () => {
    const h = harness()
    const loads = ['2', '10', '3'].map((version) => h.repository.load('m', version, config('a')))
    await h.tick()
    await h.finish() // 2
    await h.finish() // 10
    await Promise.all([loads[0], loads[1]])
    expect(h.repository.resolve('m', '').version).toBe('10')
    expect(h.repository.readyVersions('m')).toEqual(['2', '10'])
    expect(() => h.repository.resolve('x', '')).toThrow(new NotFoundError('model', 'x'))
    expect(() => h.repository.resolve('m', '4')).toThrow(new NotFoundError('model version', 'm/4'))
    await h.finish()
    await loads[2]
  })

  it('reloads a READY version with a new config while the old one keeps serving', async () => {
    const h = harness()
    const load = h.repository.load('m', '1', config('a'))
    await h.tick()
    await h.finish()
    await load
    const reload = h.repository.load('m', '1', config('b'))
    await h.tick()
    expect(h.repository.index()).toEqual([{ name: 'm', version: '1', state: 'READY', reason: '' }])
    expect(h.repository.resolve('m', '1').config.sha256[0]).toBe('a')
    await h.finish()
    await reload
    expect(h.repository.resolve('m', '1').config.sha256[0]).toBe('b')
    expect(h.released).toEqual(['m/1/a'])
  })

  it('keeps serving the old config when a reload fails, and says so in the index', async () => {
    const h = harness()
    const load = h.repository.load('m', '1', config('a'))
    await h.tick()
    await h.finish()
    await load
    const reload = h.repository.load('m', '1', config('b'))
    const refused = expect(reload).rejects.toThrow(
      new IllegalStateError('version 1 of model m failed to load: bad bytes'),
    )
    await h.tick()
    await h.finish(new IllegalStateError('bad bytes'))
    await refused
    expect(h.repository.index()).toEqual([
      { name: 'm', version: '1', state: 'READY', reason: 'reload failed: bad bytes' },
    ])
    expect(h.repository.resolve('m', '1').config.sha256[0]).toBe('a')
    // Asking for what serves clears the failed reload.
    await h.repository.load('m', '1', config('a'))
    expect(h.repository.index()[0]!.reason).toBe('')
  })

  it('backs off a failing config: 1 s, then 2 s, then 4 s at most; another config is tried at once', async () => {
    const h = harness()
    const attempt = async (sha = 'a') => {
      const load = h.repository.load('m', '1', config(sha)).catch((error: Error) => error)
      await h.tick()
      if (h.pending.length > 0) await h.finish(new UnavailableError('S3 is down'))
      return load
    }
    expect(await attempt()).toMatchObject({
      message: 'version 1 of model m failed to load: S3 is down',
    })
    expect(h.repository.index()).toEqual([
      { name: 'm', version: '1', state: 'UNAVAILABLE', reason: 'S3 is down' },
    ])
    const refused = (await attempt()) as UnavailableError
    expect(refused).toBeInstanceOf(UnavailableError)
    expect(refused.details['retryAfterSeconds']).toBe(1)
    h.advance(1_000)
    await attempt() // tried: failure 2, backoff 2 s
    h.advance(1_999)
    expect(((await attempt()) as UnavailableError).details['retryAfterSeconds']).toBe(1)
    h.advance(1)
    await attempt() // failure 3: 4 s
    h.advance(3_000)
    expect(((await attempt()) as UnavailableError).message).toContain('failed 3 times')
    h.advance(1_000)
    await attempt() // failure 4: capped at 4 s
    h.advance(3_999)
    expect(((await attempt()) as UnavailableError).details['retryAfterSeconds']).toBe(1)
    // A different config is a different attempt.
    const other = h.repository.load('m', '1', config('c'))
    await h.tick()
    expect(h.pending).toHaveLength(1)
    await h.finish()
    await other
    expect(h.repository.index()[0]!.state).toBe('READY')
  })

  it('unloading a version that is loading discards it when it arrives', async () => {
    const h = harness()
    const load = h.repository.load('m', '1', config('a'))
    const refused = expect(load).rejects.toThrow(
      'version 1 of model m was unloaded while it was loading',
    )
    await h.tick()
    await h.repository.unload('m', '1')
    expect(h.repository.index()).toEqual([])
    await h.finish()
    await refused
    expect(h.released).toEqual(['m/1/a'])
    expect(h.repository.index()).toEqual([])
  })
})
