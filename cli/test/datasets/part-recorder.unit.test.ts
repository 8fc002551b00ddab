import { describe, expect, it } from 'vitest'
import { createPartRecorder } from '../../src/datasets/part-recorder.ts'

describe('createPartRecorder', () => {
  it('keeps one report in flight and batches what finished meanwhile', async () => {
    const reports: number[][] = []
    let release: () => void = () => {}
    const recorder = createPartRecorder(async (parts) => {
      reports.push(parts.map((p) => p.partNumber))
      await new Promise<void>((resolve) => (release = resolve))
    })
    recorder.add({ partNumber: 1, etag: 'a' })
    recorder.add({ partNumber: 2, etag: 'b' })
    recorder.add({ partNumber: 3, etag: 'c' })
    expect(reports).toEqual([[1]])
    const drained = recorder.drain()
    release()
    await new Promise((resolve) => setImmediate(resolve))
    release()
    await drained
    expect(reports).toEqual([[1], [2, 3]])
  })

  it('surfaces a refusal on drain', async () => {
    const recorder = createPartRecorder(async () => {
      throw Object.assign(new Error('409 aborted'), { status: 409 })
    })
    recorder.add({ partNumber: 1, etag: 'a' })
    await expect(recorder.drain()).rejects.toThrow(/aborted/)
  })

  it('retries a report that lost to a concurrent writer (409 concurrency), not other conflicts', async () => {
    let calls = 0
    const recorder = createPartRecorder(async () => {
      if (++calls === 1) {
        throw Object.assign(new Error('409 being changed concurrently'), {
          status: 409,
          problem: { type: 'https://argmax.dev/problems/concurrency' },
        })
      }
    })
    recorder.add({ partNumber: 1, etag: 'a' })
    await recorder.drain()
    expect(calls).toBe(2)
  })
})
