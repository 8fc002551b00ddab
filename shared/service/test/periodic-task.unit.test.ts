import { afterEach, describe, expect, it, vi } from 'vitest'
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

  describe('on its timers', () => {
    afterEach(() => {
      vi.useRealTimers()
    })

    it('runs once firstRunAfterMs after the start, then every intervalMs; reports a failure through warn', async () => {
      vi.useFakeTimers()
      const runs: number[] = []
      const logged: string[] = []
      const warned: string[] = []
      const task = schedulePeriodic(
        async () => {
          runs.push(Date.now())
          if (runs.length === 2) throw new Error('S3 unreachable')
          return { run: runs.length }
        },
        {
          name: 'retention',
          intervalMs: 60_000,
          firstRunAfterMs: 10_000,
          worthLogging: () => true,
          log: (_fields, message) => logged.push(message),
          warn: (fields, message) => warned.push(`${message}: ${String(fields['err'])}`),
        },
      )
      const start = Date.now()
      await vi.advanceTimersByTimeAsync(9_999)
      expect(runs).toEqual([])
      await vi.advanceTimersByTimeAsync(1)
      expect(runs.map((at) => at - start)).toEqual([10_000])
      await vi.advanceTimersByTimeAsync(50_000)
      expect(runs.map((at) => at - start)).toEqual([10_000, 60_000])
      await vi.advanceTimersByTimeAsync(60_000)
      expect(runs.map((at) => at - start)).toEqual([10_000, 60_000, 120_000])
      expect(logged).toEqual(['retention run', 'retention run'])
      expect(warned).toEqual(['retention run failed: Error: S3 unreachable'])
      await task.stop()
    })

    it('stop clears both timers: nothing runs after it', async () => {
      vi.useFakeTimers()
      let runs = 0
      const task = schedulePeriodic(async () => ({ run: ++runs }), {
        name: 'test',
        intervalMs: 1_000,
        firstRunAfterMs: 500,
        worthLogging: () => false,
      })
      await task.stop()
      await vi.advanceTimersByTimeAsync(10_000)
      expect(runs).toBe(0)
    })
  })
})
