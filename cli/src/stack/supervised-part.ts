import { describeExit, type RunningPart } from '@argmax/stack'
import { CrashBackoff } from './crash-backoff.ts'
import { lastLines, logSize } from './log-tail.ts'

/** Time and timers, injected so that restarts can be tested without waiting. */
export interface Clock {
  now(): number
  setTimeout(run: () => void, ms: number): { cancel(): void }
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(run, ms) {
    const timer = setTimeout(run, ms)
    return { cancel: () => clearTimeout(timer) }
  },
}

/**
 * `running`: the process runs (ready or not is for the health probe to say); `backoff`: it
 * died and waits to be started again; `starting`: a restart waits for its health check;
 * `stopped`: the stack is stopping, nothing is restarted any more.
 */
export type PartPhase = 'running' | 'backoff' | 'starting' | 'stopped'

/** What the supervisor knows of a part beyond its pid: kept in state.json for `argmax status`. */
export interface PartSupervision {
  phase: PartPhase
  /** Times the supervisor started the part again since `argmax up`, failed attempts included. */
  restarts: number
  crashLoop: boolean
  /** The last time the part died or failed to start again. */
  lastExit?: { at: string; reason: string; logTail: string[] }
  /** In `backoff`: when the next start is due (ISO-8601). */
  nextStartAt?: string
}

export interface SupervisedPartOptions {
  /** The part as `argmax up` started it. */
  initial: RunningPart
  /** Starts it again on the same ports, resolving once healthy. */
  start: () => Promise<RunningPart>
  log: (line: string) => void
  /** Called after every change of pid or supervision, e.g. to rewrite state.json. */
  onChange: () => void
  clock?: Clock
  backoff?: CrashBackoff
  /** Log lines kept with a crash (and printed by `argmax status`). */
  tailLines?: number
}

/**
 * Keeps one part of the stack running: when its process dies on its own (a crash, an OOM
 * kill, a stray `kill -9`) it is started again after the crash back-off, and each death is
 * logged with how the process ended and its last log lines. A failed restart counts as one
 * more crash. `halt` ends all of this, so a deliberate stop is never undone.
 */
export class SupervisedPart {
  private part: RunningPart
  private readonly clock: Clock
  private readonly backoff: CrashBackoff
  private readonly tailLines: number
  private startedAt: number
  /** Where the current run's output starts in the log file (unknown for the first run). */
  private logFrom = 0
  private halted = false
  private timer: { cancel(): void } | undefined
  private starting: Promise<void> | undefined
  private state: PartSupervision = { phase: 'running', restarts: 0, crashLoop: false }

  constructor(private readonly options: SupervisedPartOptions) {
    this.part = options.initial
    this.clock = options.clock ?? systemClock
    this.backoff = options.backoff ?? new CrashBackoff()
    this.tailLines = options.tailLines ?? 10
    this.startedAt = this.clock.now()
    this.watch(this.part)
  }

  get name(): string {
    return this.part.name
  }

  /** The process now running (or the last one, while it waits to be started again). */
  get current(): RunningPart {
    return this.part
  }

  get supervision(): PartSupervision {
    return { ...this.state }
  }

  /** No more restarts: what dies from now on stays down. */
  halt(): void {
    this.halted = true
    this.timer?.cancel()
    this.timer = undefined
    this.state = { ...this.state, phase: 'stopped' }
    delete this.state.nextStartAt
  }

  /** Halts, waits for a restart under way, and stops the process. */
  async stop(): Promise<void> {
    this.halt()
    await this.starting
    await this.part.stop()
  }

  private watch(part: RunningPart): void {
    void part.exited.then((exit) => {
      // A deliberate stop, or an old process of this part: nothing to do.
      if (this.halted || part !== this.part) return
      this.crashed(`pid ${part.pid} ended on its own: ${describeExit(exit)}`)
    })
  }

  private crashed(reason: string): void {
    const now = this.clock.now()
    const delay = this.backoff.crashed(this.startedAt, now)
    // This run's last words; a restart that failed says why in the lines it wrote.
    const logTail = lastLines(this.part.logFile, this.tailLines, { from: this.logFrom })
    this.state = {
      phase: 'backoff',
      restarts: this.state.restarts,
      crashLoop: this.backoff.crashLooping,
      lastExit: { at: new Date(now).toISOString(), reason, logTail },
      nextStartAt: new Date(now + delay).toISOString(),
    }
    const loop = this.state.crashLoop ? `, crash loop (${this.backoff.crashes} in a row)` : ''
    this.options.log(
      [
        `${this.name}: ${reason}${loop}; starting it again in ${formatDuration(delay)}`,
        `  last lines of ${this.part.logFile}:`,
        ...(logTail.length > 0 ? logTail : ['(no log output)']).map((line) => `    | ${line}`),
      ].join('\n'),
    )
    this.options.onChange()
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      this.starting = this.restart()
    }, delay)
  }

  private async restart(): Promise<void> {
    if (this.halted) return
    this.startedAt = this.clock.now()
    this.logFrom = logSize(this.part.logFile)
    this.state = { ...this.state, phase: 'starting', restarts: this.state.restarts + 1 }
    delete this.state.nextStartAt
    this.options.onChange()
    let part: RunningPart
    try {
      part = await this.options.start()
    } catch (error) {
      if (this.halted) return
      // The start's own explanation names the reason; its first line is enough here.
      const reason = (error as Error).message.split('\n')[0] ?? 'the restart failed'
      this.crashed(`restart ${this.state.restarts} failed: ${reason}`)
      return
    }
    if (this.halted) {
      await part.stop()
      return
    }
    this.part = part
    this.state = { ...this.state, phase: 'running', crashLoop: false }
    this.options.log(
      `${this.name}: running again (pid ${part.pid}, restart ${this.state.restarts})`,
    )
    this.options.onChange()
    this.watch(part)
  }
}

/** `900 ms`, `20 s`, `1 min 4 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`
  const seconds = Math.round(ms / 1_000)
  if (seconds < 60) return `${seconds} s`
  const rest = seconds % 60
  return `${Math.floor(seconds / 60)} min${rest > 0 ? ` ${rest} s` : ''}`
}
