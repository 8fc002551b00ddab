/**
 * Where training attempts run. The training service decides *what* runs (which attempt, when,
 * with which contract variables); a runner only starts, watches, cancels and reports jobs.
 * `local` runs them as child processes on this machine (the embedded default), `kubernetes` as
 * one `batch/v1` Job per attempt. Both run the same trainer workload with the same job
 * contract (`services/training/trainers/README.md`).
 */

/** What one attempt needs to run. */
export interface AttemptSpec {
  runId: string
  /** 1, 2, 3 …: one job per attempt. */
  attempt: number
  ownerId: string
  trainer:
    | { kind: 'builtin'; name: 'xgboost' | 'linear' }
    | { kind: 'image'; image: string; command: string[] }
  /** The job contract's variables (`ARGMAX_RUN_ID`, `ARGMAX_RUN_TOKEN`, …), secrets included. */
  env: Record<string, string>
  resources: AttemptResources
  /** Wall-clock limit of this attempt; the runner kills the job past it. */
  timeoutSeconds: number
}

export interface AttemptResources {
  /** CPU cores (fractions allowed). */
  cpu: number
  memoryMb: number
  gpus: number
  /** A GPU profile such as a MIG slice (`nvidia.com/mig-1g.5gb`); GPUs of a pool otherwise. */
  gpuProfile?: string
}

/** A runner's handle on a job: enough to find it again after the service restarts. */
export interface JobRef {
  runner: 'local' | 'kubernetes'
  /** A process id, a Job name … */
  id: string
  runId: string
  attempt: number
}

export type JobState =
  | { state: 'pending' | 'running' }
  | { state: 'succeeded' }
  | {
      state: 'failed'
      /** `user_error` (exit 2), `timeout`, `crashed` (anything else, OOM and eviction included). */
      reason: 'user_error' | 'timeout' | 'crashed'
      exitCode?: number
      message: string
    }
  /** The runner has no such job (it was never started, or it is gone with its node). */
  | { state: 'missing' }

export interface RunnerCapacity {
  /** Attempts that may run at once on this runner. */
  slots: number
  gpus: number
}

export interface Runner {
  readonly name: JobRef['runner']
  capacity(): RunnerCapacity
  /** Starts the attempt; idempotent per (runId, attempt): a second call finds the first job. */
  start(spec: AttemptSpec): Promise<JobRef>
  state(job: JobRef): Promise<JobState>
  /** Calls `onChange` whenever a job's state changes (and once per job on subscribing). */
  watch(onChange: (job: JobRef, state: JobState) => void): { stop(): Promise<void> }
  /** Kills the job (cancel, timeout, lost heartbeat); resolves once it is gone. */
  cancel(job: JobRef): Promise<void>
  /** The last lines of the job's output, for failure reasons and `argmax runs logs`. */
  logTail(job: JobRef, lines: number): Promise<string>
  /** Every job this runner started that still exists: how a restarted service finds them. */
  list(): Promise<JobRef[]>
}
