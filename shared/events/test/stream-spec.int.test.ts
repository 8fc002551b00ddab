import { connectNats, uniqueName } from '@argmax/testkit'
import { describe, expect, it } from 'vitest'
import { ensureStreams, type StreamSpec } from '../src/index.ts'

describe('ensureStreams', () => {
  it('creates streams, is idempotent, and applies a changed spec', async () => {
    const nc = await connectNats()
    const jsm = await nc.jetstreamManager()
    const name = uniqueName('SPEC')
    const context = name.toLowerCase()
    const spec: StreamSpec = { name, subjects: [`${context}.a.>`], retention: 'limits' }
    const work: StreamSpec = {
      name: `${name}_JOBS`,
      subjects: [`${context}.jobs.>`],
      retention: 'workqueue',
    }

    await ensureStreams(jsm, [spec, work])
    const created = await jsm.streams.info(name)
    await ensureStreams(jsm, [spec, work])
    const again = await jsm.streams.info(name)
    // Nothing changed: same creation, same configuration.
    expect(again.created).toBe(created.created)
    expect(again.config).toEqual(created.config)
    expect((await jsm.streams.info(work.name)).config.retention).toBe('workqueue')

    await ensureStreams(jsm, [
      { ...spec, subjects: [`${context}.a.>`, `${context}.b.>`], maxAge: 60_000 },
    ])
    const updated = await jsm.streams.info(name)
    expect(updated.config.max_age).toBe(60_000 * 1_000_000)
    expect(updated.config.subjects).toEqual([`${context}.a.>`, `${context}.b.>`])
    // The duplicate window is capped by the age limit (JetStream refuses a longer one).
    expect(updated.config.duplicate_window).toBe(60_000 * 1_000_000)
  })

  it('refuses a retention change, which JetStream cannot apply in place', async () => {
    const nc = await connectNats()
    const jsm = await nc.jetstreamManager()
    const name = uniqueName('SPEC')
    const spec: StreamSpec = { name, subjects: [`${name.toLowerCase()}.>`], retention: 'limits' }
    await ensureStreams(jsm, [spec])
    await expect(ensureStreams(jsm, [{ ...spec, retention: 'interest' }])).rejects.toThrow(
      /cannot change it/,
    )
  })
})
