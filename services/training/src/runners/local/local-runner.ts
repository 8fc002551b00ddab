import { spawn } from 'node:child_process'
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import type { AttemptSpec, JobRef, JobState, Runner, RunnerCapacity } from '../runner.ts'
import { signalGroup } from './processes.ts'

/**
 * The local runner: each attempt is a child process on this machine, the embedded default of
 * `argmax up`. What makes it survive the service:
 *
 * - every job has a directory `<workDir>/jobs/<runId>.<attempt>/` holding `job.json` (written
 *   before the process starts), `pid`, `output.log` (stdout and stderr), `exit` (its exit
 *   code, written by a small `sh` wrapper when the trainer ends) and `killed` (why we killed
 *   it);
 * - jobs run in their own session and process group (so a cancel kills the trainer and
 *   everything it started), detached from the service: when the service dies or restarts they
 *   keep running, and the next process finds them again from their directories (`list`),
 *   tells them apart from recycled pids by their command line, and learns how they ended from
 *   `exit` — none is lost, none is started twice (`start` is idempotent per run and attempt:
 *   the directory is the claim).
 *
 * Timeouts are enforced here too (a backstop: the scheduler fails the run at its deadline and
 * cancels the job). GPUs of the pool are handed out by index through `CUDA_VISIBLE_DEVICES`.
 */
export interface LocalRunnerOptions {
  workDir: string
  /** Attempts that may run at once. */
  slots: number
  /** GPUs of this machine (see gpus.ts). */
  gpus: number
  /** The built-in trainers' command, before `--trainer <name>`. */
  builtinCommand: string[]
  /** Variables every job gets beside the job contract's (PATH, HOME, the stack marker …). */
  baseEnv?: Record<string, string>
  /** How often job states are checked (exits of our own children are seen at once). */
  pollMs?: number
  /** SIGTERM, then SIGKILL after this long. */
  killGraceMs?: number
  /** Directories of finished jobs are removed after this long (default 7 days). */
  retainFinishedMs?: number
  /** Kill running jobs when the runner stops (tests); by default they outlive the service. */
  killJobsOnStop?: boolean
  log?: { info(fields: object, message: string): void; warn(fields: object, message: string): void }
}

interface JobRecord {
  runId: string
  attempt: number
  /** Wall-clock ms when it was started (the runner's own timeout counts from it). */
  startedAtMs: number
  timeoutSeconds: number
  gpus: number[]
  command: string[]
}

interface TrackedJob {
  ref: JobRef
  dir: string
  record: JobRecord | undefined
  lastState: JobState | undefined
  timer?: NodeJS.Timeout
}

/**
 * The wrapper: records its pid, runs the trainer with its output in output.log, and records
 * the exit code (atomically) when the trainer ends, however it ends.
 */
const WRAPPER = [
  'dir="$1"; shift',
  'echo $$ > "$dir/pid.tmp" && mv "$dir/pid.tmp" "$dir/pid"',
  '"$@" >>"$dir/output.log" 2>&1',
  'code=$?',
  'echo $code > "$dir/exit.tmp" && mv "$dir/exit.tmp" "$dir/exit"',
  'exit $code',
].join('\n')

const DAY_MS = 24 * 3600 * 1000

export class LocalRunner implements Runner {
  readonly name = 'local' as const
  private readonly jobsDir: string
  private readonly jobs = new Map<string, TrackedJob>()
  private readonly listeners = new Set<(job: JobRef, state: JobState) => void>()
  private readonly poller: NodeJS.Timeout
  private readonly pollMs: number
  private readonly killGraceMs: number
  private stopped = false

  constructor(private readonly options: LocalRunnerOptions) {
    this.jobsDir = join(options.workDir, 'jobs')
    mkdirSync(this.jobsDir, { recursive: true })
    this.pollMs = options.pollMs ?? 1000
    this.killGraceMs = options.killGraceMs ?? 10_000
    this.rediscover()
    this.poller = setInterval(() => this.poll(), this.pollMs)
    this.poller.unref()
  }

  capacity(): RunnerCapacity {
    return { slots: this.options.slots, gpus: this.options.gpus }
  }

  async start(spec: AttemptSpec): Promise<JobRef> {
    if (spec.trainer.kind !== 'builtin') {
      throw new Error(
        'the local runner runs the built-in trainers only; a container image needs the kubernetes runner',
      )
    }
    const key = jobKey(spec.runId, spec.attempt)
    const dir = join(this.jobsDir, key)
    try {
      // The directory is the claim: a second start of the same attempt finds it and stops here.
      mkdirSync(dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      return this.track(dir, key).ref
    }
    const gpus = this.allocateGpus(spec.resources.gpus)
    const record: JobRecord = {
      runId: spec.runId,
      attempt: spec.attempt,
      startedAtMs: Date.now(),
      timeoutSeconds: spec.timeoutSeconds,
      gpus,
      command: [...this.options.builtinCommand, '--trainer', spec.trainer.name],
    }
    const scratch = join(dir, 'scratch')
    mkdirSync(scratch)
    writeAtomically(join(dir, 'job.json'), JSON.stringify(record))
    const tracked = this.track(dir, key)
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/tmp',
      LANG: process.env['LANG'] ?? 'C.UTF-8',
      ...this.options.baseEnv,
      ...spec.env,
      ARGMAX_WORK_DIR: scratch,
      CUDA_VISIBLE_DEVICES: gpus.join(','),
    }
    const child = spawn('/bin/sh', ['-c', WRAPPER, 'argmax-job', dir, ...record.command], {
      env,
      cwd: scratch,
      detached: true,
      stdio: 'ignore',
    })
    child.on('error', (error) => {
      writeFileSync(join(dir, 'output.log'), `could not start the job: ${error.message}\n`, {
        flag: 'a',
      })
      this.poll()
    })
    child.on('exit', () => this.poll())
    child.unref()
    // The pid file comes from the wrapper; until then we know the pid from the spawn.
    if (child.pid !== undefined && !existsSync(join(dir, 'pid'))) {
      writeAtomically(join(dir, 'pid.spawned'), String(child.pid))
    }
    this.armTimeout(tracked)
    this.options.log?.info(
      { runId: spec.runId, attempt: spec.attempt, pid: child.pid, gpus },
      'job started',
    )
    return tracked.ref
  }

  async state(job: JobRef): Promise<JobState> {
    const tracked = this.jobs.get(jobKey(job.runId, job.attempt)) ?? this.findOnDisk(job)
    if (!tracked) return { state: 'missing' }
    return this.stateOf(tracked)
  }

  watch(onChange: (job: JobRef, state: JobState) => void): { stop(): Promise<void> } {
    this.listeners.add(onChange)
    for (const tracked of this.jobs.values()) {
      const state = this.stateOf(tracked)
      tracked.lastState = state
      onChange(tracked.ref, state)
    }
    return {
      stop: async () => {
        this.listeners.delete(onChange)
      },
    }
  }

  async cancel(job: JobRef): Promise<void> {
    const tracked = this.jobs.get(jobKey(job.runId, job.attempt)) ?? this.findOnDisk(job)
    if (!tracked) return
    await this.kill(tracked, 'cancelled')
  }

  async logTail(job: JobRef, lines: number): Promise<string> {
    const dir = join(this.jobsDir, jobKey(job.runId, job.attempt))
    return tailOf(join(dir, 'output.log'), lines)
  }

  async list(): Promise<JobRef[]> {
    this.rediscover()
    return [...this.jobs.values()].map((tracked) => tracked.ref)
  }

  /** Stops watching; kills the running jobs only with `killJobsOnStop`. */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.poller)
    for (const tracked of this.jobs.values()) clearTimeout(tracked.timer)
    if (this.options.killJobsOnStop) {
      await Promise.all([...this.jobs.values()].map((tracked) => this.kill(tracked, 'cancelled')))
    }
  }

  /** The pid of a job's wrapper (tests use it to kill the trainer under it). */
  pidOf(job: JobRef): number | undefined {
    return pidOf(join(this.jobsDir, jobKey(job.runId, job.attempt)))
  }

  private track(dir: string, key: string): TrackedJob {
    const known = this.jobs.get(key)
    if (known) return known
    const record = readRecord(dir)
    const [runId, attempt] = splitKey(key)
    const tracked: TrackedJob = {
      ref: { runner: 'local', id: key, runId, attempt },
      dir,
      record,
      lastState: undefined,
    }
    this.jobs.set(key, tracked)
    return tracked
  }

  private findOnDisk(job: JobRef): TrackedJob | undefined {
    const key = jobKey(job.runId, job.attempt)
    const dir = join(this.jobsDir, key)
    return existsSync(dir) ? this.track(dir, key) : undefined
  }

  /** Every job directory, tracked: how a restarted service finds the jobs of the previous one. */
  private rediscover(): void {
    const now = Date.now()
    for (const key of readdirSync(this.jobsDir)) {
      if (this.jobs.has(key) || !/^[A-Za-z0-9_-]+\.\d+$/.test(key)) continue
      const dir = join(this.jobsDir, key)
      const tracked = this.track(dir, key)
      const state = this.stateOf(tracked)
      if (state.state === 'running' || state.state === 'pending') {
        this.armTimeout(tracked)
        continue
      }
      // Finished long ago: its run has long been decided; the directory can go.
      const finishedAt = mtimeOf(join(dir, 'exit')) ?? mtimeOf(dir) ?? now
      if (now - finishedAt > (this.options.retainFinishedMs ?? 7 * DAY_MS)) {
        rmSync(dir, { recursive: true, force: true })
        this.jobs.delete(key)
      }
    }
  }

  private stateOf(tracked: TrackedJob): JobState {
    const exit = readText(join(tracked.dir, 'exit'))
    const killed = readText(join(tracked.dir, 'killed'))
    if (exit !== undefined) {
      const code = Number(exit)
      if (code === 0) return { state: 'succeeded' }
      if (killed === 'timeout') return timedOut(tracked)
      if (code === 2) {
        return {
          state: 'failed',
          reason: 'user_error',
          exitCode: 2,
          message: 'the trainer refused its input (exit 2)',
        }
      }
      const message =
        code > 128
          ? `the trainer was killed by signal ${code - 128} (exit ${code})`
          : `the trainer crashed (exit ${code})`
      return { state: 'failed', reason: 'crashed', exitCode: code, message }
    }
    const pid = pidOf(tracked.dir)
    if (pid !== undefined && isJobProcess(pid, tracked.dir)) return { state: 'running' }
    if (pid === undefined && tracked.record && Date.now() - tracked.record.startedAtMs < 30_000) {
      // Spawned an instant ago: the wrapper has not written its pid yet.
      return { state: 'pending' }
    }
    if (killed === 'timeout') return timedOut(tracked)
    if (killed === 'cancelled') {
      return { state: 'failed', reason: 'crashed', message: 'the job was killed (cancelled)' }
    }
    return {
      state: 'failed',
      reason: 'crashed',
      message:
        pid === undefined
          ? 'the job never started (the service stopped while starting it)'
          : 'the job ended without an exit status (killed, or lost with its machine)',
    }
  }

  private poll(): void {
    if (this.stopped) return
    for (const tracked of this.jobs.values()) {
      const previous = tracked.lastState
      if (previous && previous.state !== 'running' && previous.state !== 'pending') continue
      const state = this.stateOf(tracked)
      if (previous && previous.state === state.state) continue
      tracked.lastState = state
      if (state.state !== 'running' && state.state !== 'pending') clearTimeout(tracked.timer)
      for (const listener of this.listeners) {
        try {
          listener(tracked.ref, state)
        } catch (error) {
          this.options.log?.warn({ err: String(error) }, 'a job watcher failed')
        }
      }
    }
  }

  private armTimeout(tracked: TrackedJob): void {
    if (!tracked.record || tracked.timer) return
    const remaining = tracked.record.startedAtMs + tracked.record.timeoutSeconds * 1000 - Date.now()
    tracked.timer = setTimeout(
      () => {
        void this.kill(tracked, 'timeout').then(() => this.poll())
      },
      Math.max(0, Math.min(remaining, 2 ** 31 - 1)),
    )
    tracked.timer.unref()
  }

  private async kill(tracked: TrackedJob, why: 'cancelled' | 'timeout'): Promise<void> {
    const pid = pidOf(tracked.dir)
    if (!existsSync(join(tracked.dir, 'killed'))) writeAtomically(join(tracked.dir, 'killed'), why)
    clearTimeout(tracked.timer)
    if (pid === undefined || !isJobProcess(pid, tracked.dir)) return
    signalGroup(pid, 'SIGTERM')
    const deadline = Date.now() + this.killGraceMs
    while (isJobProcess(pid, tracked.dir) && Date.now() < deadline) await sleep(50)
    // Whatever is left of the group (the trainer may have ignored SIGTERM) goes now.
    signalGroup(pid, 'SIGKILL')
    while (isJobProcess(pid, tracked.dir)) await sleep(20)
    this.options.log?.info(
      { runId: tracked.ref.runId, attempt: tracked.ref.attempt, why },
      'job killed',
    )
  }

  private allocateGpus(wanted: number): number[] {
    if (wanted === 0) return []
    const used = new Set<number>()
    for (const tracked of this.jobs.values()) {
      const state = this.stateOf(tracked)
      if (state.state === 'running' || state.state === 'pending') {
        for (const gpu of tracked.record?.gpus ?? []) used.add(gpu)
      }
    }
    const free = Array.from({ length: this.options.gpus }, (_, i) => i).filter((i) => !used.has(i))
    if (free.length < wanted) {
      throw new Error(
        `the local pool has ${free.length} free GPU(s) of ${this.options.gpus}; the attempt needs ${wanted}`,
      )
    }
    return free.slice(0, wanted)
  }
}

function timedOut(tracked: TrackedJob): JobState {
  const seconds = tracked.record?.timeoutSeconds
  return {
    state: 'failed',
    reason: 'timeout',
    message: `the job ran past its time limit${seconds !== undefined ? ` (${seconds} s)` : ''} and was killed`,
  }
}

export function jobKey(runId: string, attempt: number): string {
  return `${runId}.${attempt}`
}

function splitKey(key: string): [string, number] {
  const dot = key.lastIndexOf('.')
  return [key.slice(0, dot), Number(key.slice(dot + 1))]
}

function readRecord(dir: string): JobRecord | undefined {
  const text = readText(join(dir, 'job.json'))
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as JobRecord
  } catch {
    return undefined
  }
}

function pidOf(dir: string): number | undefined {
  const text = readText(join(dir, 'pid')) ?? readText(join(dir, 'pid.spawned'))
  const pid = Number(text)
  return text !== undefined && Number.isInteger(pid) && pid > 1 ? pid : undefined
}

/**
 * The pid runs this job's wrapper: its command line names the job's directory. A pid recycled
 * by another process after a reboot or a long stop does not.
 */
function isJobProcess(pid: number, dir: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    if (stat.slice(stat.lastIndexOf(')') + 2).charAt(0) === 'Z') return false
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dir)
  } catch {
    return false
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs
  } catch {
    return undefined
  }
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text)
  renameSync(`${path}.tmp`, path)
}

/** The last `lines` lines of a file, reading at most its last 1 MiB. */
export function tailOf(path: string, lines: number): string {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return ''
  }
  try {
    const size = fstatSync(fd).size
    const length = Math.min(size, 1024 * 1024)
    const buffer = Buffer.alloc(length)
    readSync(fd, buffer, 0, length, size - length)
    const text = buffer.toString('utf8').replace(/\n$/, '')
    return text.split('\n').slice(-lines).join('\n')
  } finally {
    closeSync(fd)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
