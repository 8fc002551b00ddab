import { describe, expect, it } from 'vitest'
import { schedulePeriodic } from '../src/periodic-task.ts'

describe('schedulePeriodic', () => {
  it('shares a run in progress between concurrent callers, and runs again once it is over', async () => {
    let runs = 0
    let release!: () => void
    const task = schedulePeriodic(
      () =>
        new Promise<{ run: number }>((resolve) => {
          runs += 1
          const run = runs
          release = () => resolve({ run })
        }),
      { name: 'test', intervalMs: 0, worthLogging: () => true },
    )
    const first = task.runOnce()
    const second = task.runOnce()
    release()
    expect(await first).toEqual({ run: 1 })
    expect(await second).toEqual({ run: 1 })
    const third = task.runOnce()
    release()
    expect(await third).toEqual({ run: 2 })
    await task.stop()
  })

  it('stop waits for the run in progress, and a failed run does not escape it', async () => {
    let fail!: (error: Error) => void
    const task = schedulePeriodic(() => new Promise<object>((_, reject) => (fail = reject)), {
      name: 'test',
      intervalMs: 0,
      worthLogging: () => true,
    })
    const run = task.runOnce()
    const stopped = task.stop()
    fail(new Error('S3 unreachable'))
    await expect(run).rejects.toThrow('S3 unreachable')
    await expect(stopped).resolves.toBeUndefined()
  })
})
