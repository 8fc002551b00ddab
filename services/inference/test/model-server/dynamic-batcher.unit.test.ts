import { describe, expect, it } from 'vitest'
import {
  DynamicBatcher,
  type BatchReport,
  type BatcherTimer,
  type DynamicBatcherOptions,
} from '../../src/model-server/batching/dynamic-batcher.ts'

/** A clock and timers the test moves by hand. */
function manualTime() {
  let now = 0
  const timers = new Map<number, { at: number; callback: () => void }>()
  let next = 1
  const timer: BatcherTimer = {
    set(callback, ms) {
      const id = next++
      timers.set(id, { at: now + ms, callback })
      return id
    },
    clear: (id) => void timers.delete(id as number),
  }
  return {
    timer,
    now: () => now,
    pending: () => timers.size,
    advance(ms: number) {
      now += ms
      for (const [id, entry] of [...timers]) {
        if (entry.at <= now) {
          timers.delete(id)
          entry.callback()
        }
      }
    },
  }
}

interface Item {
  id: string
  rows: number
  key?: string
  fail?: boolean
}

/** Runs that finish only when the test releases them, so "busy" is a state, not a timing. */
function harness(options: Partial<DynamicBatcherOptions<Item, string>> = {}) {
  const time = manualTime()
  const runs: Item[][] = []
  const reports: BatchReport[] = []
  const gates: Array<() => void> = []
  const batcher = new DynamicBatcher<Item, string>({
    maxBatchSize: 8,
    maxQueueDelayMs: 0,
    maxConcurrentRuns: 1,
    rows: (item) => item.rows,
    key: (item) => item.key ?? '',
    run: async (items) => {
      runs.push(items)
      await new Promise<void>((resolve) => gates.push(resolve))
      if (items.some((item) => item.fail))
        throw new Error(`run of ${items.map((i) => i.id)} failed`)
      return items.map((item) => `${item.id}@${runs.length}`)
    },
    now: time.now,
    timer: time.timer,
    onBatch: (report) => reports.push(report),
    ...options,
  })
  const flush = () => new Promise((resolve) => setImmediate(resolve))
  return {
    batcher,
    time,
    runs,
    reports,
    flush,
    /** Lets every run started so far finish. */
    async release() {
      for (const gate of gates.splice(0)) gate()
      await flush()
    },
    ids: () => runs.map((run) => run.map((item) => item.id)),
  }
}

describe('DynamicBatcher', () => {
  it('runs a request on an idle server at once, without waiting for company', async () => {
    const h = harness()
    const answer = h.batcher.submit({ id: 'a', rows: 1 })
    expect(h.ids()).toEqual([['a']])
    await h.release()
    await expect(answer).resolves.toBe('a@1')
  })

  it('merges the requests that queue while every run slot is busy', async () => {
    const h = harness()
    const a = h.batcher.submit({ id: 'a', rows: 1 })
    const rest = ['b', 'c', 'd'].map((id) => h.batcher.submit({ id, rows: 2 }))
    expect(h.ids()).toEqual([['a']])
    await h.release()
    expect(h.ids()).toEqual([['a'], ['b', 'c', 'd']])
    await h.release()
    await expect(a).resolves.toBe('a@1')
    await expect(Promise.all(rest)).resolves.toEqual(['b@2', 'c@2', 'd@2'])
    expect(h.reports.map((r) => [r.rows, r.requests])).toEqual([
      [1, 1],
      [6, 3],
    ])
  })

  it('waits up to maxQueueDelay for a fuller batch, and no longer', async () => {
    const h = harness({ maxQueueDelayMs: 5 })
    const a = h.batcher.submit({ id: 'a', rows: 1 })
    h.time.advance(3)
    const b = h.batcher.submit({ id: 'b', rows: 1 })
    expect(h.runs).toEqual([])
    h.time.advance(1)
    expect(h.runs).toEqual([])
    h.time.advance(1) // 5 ms after the oldest request
    expect(h.ids()).toEqual([['a', 'b']])
    expect(h.reports[0]!.queueDelaysMs).toEqual([5, 2])
    await h.release()
    await expect(Promise.all([a, b])).resolves.toEqual(['a@1', 'b@1'])
    expect(h.time.pending()).toBe(0)
  })

  it('dispatches a full batch at once, whatever the delay', async () => {
    const h = harness({ maxQueueDelayMs: 1_000 })
    const answers = [3, 5].map((rows, i) => h.batcher.submit({ id: `r${i}`, rows }))
    expect(h.ids()).toEqual([['r0', 'r1']])
    expect(h.time.pending()).toBe(0)
    await h.release()
    await expect(Promise.all(answers)).resolves.toEqual(['r0@1', 'r1@1'])
  })

  it('never exceeds maxBatchSize: a request that does not fit closes the batch before it', async () => {
    const h = harness({ maxQueueDelayMs: 1_000 })
    void h.batcher.submit({ id: 'a', rows: 5 })
    expect(h.runs).toEqual([])
    void h.batcher.submit({ id: 'b', rows: 5 })
    // b cannot join a: waiting longer would not fill a's batch, so a runs now.
    expect(h.ids()).toEqual([['a']])
    await h.release()
    const c = h.batcher.submit({ id: 'c', rows: 3 })
    expect(h.ids()).toEqual([['a'], ['b', 'c']])
    await h.release()
    await expect(c).resolves.toBe('c@2')
  })

  it('runs a request larger than maxBatchSize alone, straight away', async () => {
    const h = harness({ maxQueueDelayMs: 1_000 })
    void h.batcher.submit({ id: 'small', rows: 1 })
    const big = h.batcher.submit({ id: 'big', rows: 9 })
    expect(h.ids()).toEqual([['big']])
    await h.release()
    await expect(big).resolves.toBe('big@1')
    h.time.advance(1_000)
    expect(h.ids()).toEqual([['big'], ['small']])
    await h.release()
  })

  it('merges only requests of the same key', async () => {
    const h = harness()
    void h.batcher.submit({ id: 'busy', rows: 1 })
    for (const [id, key] of [
      ['a', 'x'],
      ['b', 'y'],
      ['c', 'x'],
    ]) {
      void h.batcher.submit({ id: id!, rows: 1, key: key! })
    }
    await h.release()
    expect(h.ids()).toEqual([['busy'], ['a', 'c']])
    await h.release()
    expect(h.ids()).toEqual([['busy'], ['a', 'c'], ['b']])
    await h.release()
  })

  it('runs up to maxConcurrentRuns batches at once', async () => {
    const h = harness({ maxConcurrentRuns: 2 })
    for (const id of ['a', 'b', 'c', 'd']) void h.batcher.submit({ id, rows: 1 })
    expect(h.ids()).toEqual([['a'], ['b']])
    await h.release()
    expect(h.ids()).toEqual([['a'], ['b'], ['c', 'd']])
    await h.release()
  })

  it('runs every request alone when batching is off', async () => {
    const h = harness({ maxBatchSize: 0, maxQueueDelayMs: 1_000 })
    for (const id of ['a', 'b', 'c']) void h.batcher.submit({ id, rows: 1 })
    expect(h.ids()).toEqual([['a'], ['b'], ['c']])
    await h.release()
  })

  it('reruns a failed batch request by request, so one failure does not fail the others', async () => {
    const h = harness()
    void h.batcher.submit({ id: 'busy', rows: 1 })
    const good = h.batcher.submit({ id: 'good', rows: 1 })
    const bad = h.batcher.submit({ id: 'bad', rows: 1, fail: true })
    const badFails = expect(bad).rejects.toThrow('run of bad failed')
    const other = h.batcher.submit({ id: 'other', rows: 1 })
    await h.release() // busy done; good+bad+other merged
    await h.release() // the merged run fails; good is rerun alone
    await h.release() // good answered; bad rerun alone
    await h.release() // bad fails alone; other rerun alone
    await h.release() // other answered
    await expect(good).resolves.toBe('good@3')
    await badFails
    await expect(other).resolves.toBe('other@5')
    expect(h.ids()).toEqual([['busy'], ['good', 'bad', 'other'], ['good'], ['bad'], ['other']])
  })

  it('fails a merged run all at once when retryAlone says the failure is not one request’s', async () => {
    const h = harness({ retryAlone: () => false })
    void h.batcher.submit({ id: 'busy', rows: 1 })
    const answers = ['a', 'b'].map((id) => h.batcher.submit({ id, rows: 1, fail: id === 'b' }))
    const failed = Promise.allSettled(answers)
    await h.release() // busy done; a+b merged
    await h.release() // the merged run fails: nobody is rerun
    expect((await failed).map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(h.ids()).toEqual([['busy'], ['a', 'b']])
  })

  it('says when its last run ended with nothing queued, and only then', async () => {
    let idle = 0
    const h = harness({ onIdle: () => idle++ })
    void h.batcher.submit({ id: 'a', rows: 1 })
    void h.batcher.submit({ id: 'b', rows: 1 })
    await h.release() // a done, but b was queued: b runs
    expect(idle).toBe(0)
    await h.release() // b done, nothing queued
    expect(idle).toBe(1)
  })

  it('on close runs what is queued without waiting and refuses new requests', async () => {
    const h = harness({
      maxQueueDelayMs: 1_000,
      closedError: () => new Error('unloading'),
    })
    const queued = h.batcher.submit({ id: 'a', rows: 1 })
    const closed = h.batcher.close()
    expect(h.ids()).toEqual([['a']])
    await expect(h.batcher.submit({ id: 'late', rows: 1 })).rejects.toThrow('unloading')
    let done = false
    void closed.then(() => (done = true))
    await h.flush()
    expect(done).toBe(false)
    await h.release()
    await closed
    await expect(queued).resolves.toBe('a@1')
  })
})
