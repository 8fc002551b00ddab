import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PartExit, RunningPart } from '@argmax/stack'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { SupervisedPart, type Clock } from '../src/stack/supervised-part.ts'

const dir = mkdtempSync(join(tmpdir(), 'argmax-supervised-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
// A log of its own for each test: a failing restart appends to it, and another test reads its tail.
let logFile = ''
let tests = 0
beforeEach(() => {
  logFile = join(dir, `dataset-${++tests}.log`)
  writeFileSync(logFile, 'starting\n{"level":50,"msg":"boom"}\n')
})

/** A clock whose time moves only when the test says so, running the timers that fall due. */
class ManualClock implements Clock {
  private time = 0
  private timers: Array<{ at: number; run: () => void; cancelled: boolean }> = []

  now(): number {
    return this.time
  }

  setTimeout(run: () => void, ms: number) {
    const timer = { at: this.time + ms, run, cancelled: false }
    this.timers.push(timer)
    return { cancel: () => (timer.cancelled = true) }
  }

  /** Moves time forward, running what falls due on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms
    for (;;) {
      const next = this.timers
        .filter((t) => !t.cancelled && t.at <= until)
        .sort((a, b) => a.at - b.at)[0]
      if (!next) break
      this.time = next.at
      this.timers = this.timers.filter((t) => t !== next)
      next.run()
      await settle()
    }
    this.time = until
    await settle()
  }

  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

/** A process of our own making: the test decides when it dies and how. */
function fakePart(pid: number) {
  let die: (exit: PartExit) => void = () => undefined
  const exited = new Promise<PartExit>((resolve) => (die = resolve))
  let stopped = false
  const part: RunningPart = {
    name: 'dataset',
    pid,
    url: 'http://127.0.0.1:1',
    logFile,
    exited,
    stop: async () => {
      stopped = true
      die({ code: null, signal: 'SIGTERM' })
    },
  }
  return { part, die, isStopped: () => stopped }
}

function setUp(starts: Array<() => Promise<RunningPart>>) {
  const clock = new ManualClock()
  const first = fakePart(100)
  const lines: string[] = []
  let changes = 0
  const attempts: number[] = []
  const kept = new SupervisedPart({
    initial: first.part,
    start: () => {
      attempts.push(clock.now())
      const next = starts.shift()
      if (!next) throw new Error('no more starts planned')
      return next()
    },
    log: (line) => lines.push(line),
    onChange: () => changes++,
    clock,
  })
  return { clock, first, kept, lines, attempts, changes: () => changes }
}

describe('SupervisedPart', () => {
  it('starts a part that died on its own again after 1 s, and counts the restart', async () => {
    const second = fakePart(200)
    const { clock, first, kept, lines, attempts, changes } = setUp([async () => second.part])
    first.die({ code: null, signal: 'SIGKILL' })
    await settle()
    expect(kept.supervision).toMatchObject({
      phase: 'backoff',
      restarts: 0,
      crashLoop: false,
      lastExit: {
        at: new Date(0).toISOString(),
        reason: 'pid 100 ended on its own: killed by SIGKILL',
        logTail: ['starting', '{"level":50,"msg":"boom"}'],
      },
      nextStartAt: new Date(1_000).toISOString(),
    })
    expect(lines.join('\n')).toContain(
      'dataset: pid 100 ended on its own: killed by SIGKILL; starting it again in 1 s',
    )
    expect(lines.join('\n')).toContain('    | {"level":50,"msg":"boom"}')

    await clock.advance(999)
    expect(attempts).toEqual([])
    await clock.advance(1)
    expect(attempts).toEqual([1_000])
    expect(kept.current.pid).toBe(200)
    expect(kept.supervision).toMatchObject({ phase: 'running', restarts: 1, crashLoop: false })
    expect(lines.at(-1)).toBe('dataset: running again (pid 200, restart 1)')
    // backoff, starting, running: each written to state.json for `argmax status`.
    expect(changes()).toBe(3)
  })

  it('backs off further while restarts keep failing, says crash loop, and recovers', async () => {
    const recovered = fakePart(300)
    const failing = async (): Promise<RunningPart> => {
      appendFileSync(logFile, '{"level":60,"msg":"listen EADDRINUSE"}\n')
      throw new Error('dataset could not start: the process exited with code 1\n  how to fix: …')
    }
    const { clock, first, kept, attempts } = setUp([failing, failing, async () => recovered.part])
    first.die({ code: 1, signal: null })
    await settle()
    await clock.advance(1_000) // first restart: fails
    expect(kept.supervision).toMatchObject({
      phase: 'backoff',
      restarts: 1,
      crashLoop: true,
      lastExit: {
        reason: 'restart 1 failed: dataset could not start: the process exited with code 1',
        // Only what the failed attempt wrote, not the earlier runs' lines.
        logTail: ['{"level":60,"msg":"listen EADDRINUSE"}'],
      },
      nextStartAt: new Date(1_000 + 2_000).toISOString(),
    })
    await clock.advance(2_000) // second: fails, next in 4 s
    expect(kept.supervision.nextStartAt).toBe(new Date(3_000 + 4_000).toISOString())
    await clock.advance(4_000) // third: runs
    expect(attempts).toEqual([1_000, 3_000, 7_000])
    expect(kept.current.pid).toBe(300)
    expect(kept.supervision).toMatchObject({ phase: 'running', restarts: 3, crashLoop: false })
  })

  it('resets the back-off once the part has stayed up 2 min', async () => {
    const second = fakePart(200)
    const third = fakePart(300)
    const { clock, first, kept } = setUp([async () => second.part, async () => third.part])
    first.die({ code: 1, signal: null })
    await settle()
    await clock.advance(1_000)
    await clock.advance(2 * 60_000)
    second.die({ code: 1, signal: null })
    await settle()
    expect(kept.supervision).toMatchObject({ phase: 'backoff', crashLoop: false })
    expect(kept.supervision.nextStartAt).toBe(new Date(clock.now() + 1_000).toISOString())
  })

  it('never restarts what is stopped deliberately, even while it waits for a restart', async () => {
    const second = fakePart(200)
    const { clock, first, kept, attempts } = setUp([async () => second.part])
    first.die({ code: null, signal: 'SIGKILL' })
    await settle()
    await kept.stop()
    expect(clock.pending).toBe(0)
    await clock.advance(60_000)
    expect(attempts).toEqual([])
    expect(kept.supervision.phase).toBe('stopped')
  })

  it('stops a running part without restarting it', async () => {
    const { clock, first, kept, attempts } = setUp([])
    await kept.stop()
    expect(first.isStopped()).toBe(true)
    await clock.advance(60_000)
    expect(attempts).toEqual([])
    expect(kept.supervision).toMatchObject({ phase: 'stopped', restarts: 0 })
  })

  it('stops a part whose restart finishes after the stop began', async () => {
    const second = fakePart(200)
    let finishStart: () => void = () => undefined
    const slowStart = () =>
      new Promise<RunningPart>((resolve) => (finishStart = () => resolve(second.part)))
    const { clock, first, kept } = setUp([slowStart])
    first.die({ code: null, signal: 'SIGKILL' })
    await settle()
    await clock.advance(1_000)
    expect(kept.supervision.phase).toBe('starting')
    const stopping = kept.stop()
    finishStart()
    await stopping
    expect(second.isStopped()).toBe(true)
    expect(kept.supervision.phase).toBe('stopped')
  })
})
