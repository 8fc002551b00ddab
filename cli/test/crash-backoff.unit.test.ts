import { describe, expect, it } from 'vitest'
import { CrashBackoff, defaultRestartPolicy } from '../src/stack/crash-backoff.ts'

const second = 1_000
const minute = 60 * second

describe('CrashBackoff', () => {
  it('waits 1 s after a first crash, then doubles up to 60 s while the part keeps crashing', () => {
    const backoff = new CrashBackoff()
    let now = 0
    const delays: number[] = []
    for (let crash = 0; crash < 9; crash++) {
      // Each run lasts 5 s: far from the 2 min that would count as healthy.
      const startedAt = now
      now += 5 * second
      delays.push(backoff.crashed(startedAt, now))
      now += delays.at(-1)!
    }
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60].map((s) => s * second))
    expect(backoff.crashes).toBe(9)
  })

  it('reports a crash loop from the second crash in a row', () => {
    const backoff = new CrashBackoff()
    backoff.crashed(0, 10 * second)
    expect(backoff.crashLooping).toBe(false)
    backoff.crashed(11 * second, 12 * second)
    expect(backoff.crashLooping).toBe(true)
  })

  it('starts the series again after a run of 2 min or more', () => {
    const backoff = new CrashBackoff()
    backoff.crashed(0, 1 * second)
    backoff.crashed(2 * second, 3 * second)
    expect(backoff.crashed(5 * second, 6 * second)).toBe(4 * second)
    // Up just short of the reset window: still the same series.
    expect(backoff.crashed(10 * second, 10 * second + 2 * minute - 1)).toBe(8 * second)
    // Up for 2 min: a new first crash.
    const restartedAt = 20 * minute
    expect(backoff.crashed(restartedAt, restartedAt + 2 * minute)).toBe(1 * second)
    expect(backoff.crashes).toBe(1)
    expect(backoff.crashLooping).toBe(false)
  })

  it('follows the policy it is given', () => {
    const backoff = new CrashBackoff({
      ...defaultRestartPolicy,
      initialDelayMs: 10 * second,
      maxDelayMs: 5 * minute,
      resetAfterMs: 10 * minute,
    })
    const delays = Array.from({ length: 7 }, (_, i) => backoff.crashed(i * minute, i * minute + 1))
    expect(delays).toEqual([10, 20, 40, 80, 160, 300, 300].map((s) => s * second))
  })
})
