import { UnavailableError } from '@argmax/errors'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { writeWhileUnavailable, type OutageWait } from '../src/outage.ts'

describe('writeWhileUnavailable', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }))
  afterEach(() => vi.useRealTimers())

  const waitFor = (deadline: number) => {
    const warnings: Record<string, unknown>[] = []
    const wait: OutageWait = {
      deadline,
      progress: vi.fn(),
      signal: new AbortController().signal,
      log: { warn: (fields) => warnings.push(fields) },
      fields: { rows: 7 },
    }
    return { wait, warnings }
  }
  const outage = () => new UnavailableError('connect ECONNREFUSED', { dependency: 'clickhouse' })

  it('writes again after pauses of 0.5 s doubling to 5 s while ClickHouse is unavailable', async () => {
    const { wait, warnings } = waitFor(60_000)
    const attempts: number[] = []
    const write = vi.fn(async () => {
      attempts.push(Date.now())
      if (attempts.length < 12) throw outage()
    })
    const done = writeWhileUnavailable(wait, write)
    await vi.runAllTimersAsync()
    await done
    expect(attempts.slice(0, 7)).toEqual([0, 500, 1_500, 3_500, 7_500, 12_500, 17_500])
    expect(write).toHaveBeenCalledTimes(12)
    expect(wait.progress).toHaveBeenCalledTimes(11)
    // Logged on the first try and the eleventh, naming the rows.
    expect(warnings.map((fields) => fields['attempt'])).toEqual([0, 10])
    expect(warnings[0]).toMatchObject({ rows: 7 })
  })

  it('throws what is not an outage at once', async () => {
    const { wait, warnings } = waitFor(60_000)
    const refused = new Error('Cannot parse input: expected \\t before: ...')
    const write = vi.fn(async () => {
      throw refused
    })
    await expect(writeWhileUnavailable(wait, write)).rejects.toBe(refused)
    expect(write).toHaveBeenCalledTimes(1)
    expect(warnings).toEqual([])
  })

  it('gives the outage to the batch once the deadline has passed', async () => {
    const { wait } = waitFor(2_000)
    const write = vi.fn(async () => {
      throw outage()
    })
    const done = expect(writeWhileUnavailable(wait, write)).rejects.toBeInstanceOf(UnavailableError)
    await vi.runAllTimersAsync()
    await done
    // Tries at 0, 0.5 s, 1.5 s and 3.5 s: the last one is past the deadline.
    expect(write).toHaveBeenCalledTimes(4)
  })

  it('stops waiting when the consumer stops', async () => {
    const controller = new AbortController()
    const { wait } = waitFor(60_000)
    const write = vi.fn(async () => {
      if (write.mock.calls.length === 2) controller.abort()
      throw outage()
    })
    const done = expect(
      writeWhileUnavailable({ ...wait, signal: controller.signal }, write),
    ).rejects.toBeInstanceOf(UnavailableError)
    await vi.runAllTimersAsync()
    await done
    expect(write).toHaveBeenCalledTimes(2)
  })
})
