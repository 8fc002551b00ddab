import type { V1Job, V1Pod, V1ContainerStateTerminated } from '@kubernetes/client-node'
import type { JobState } from '../runner.ts'
import type { XGBoostJob } from './attempt.manifest.ts'

/**
 * What a workload's status means for the platform. Kubernetes says *that* a Job failed; the
 * platform needs *why*: past its deadline (`timeout`), the trainer's exit code 2 (`user_error`,
 * not retried) or anything else (`crashed`, retried from the checkpoint). The why of a failed
 * pod is in the pod, so the pods are read only then.
 */

export type PodLoader = () => Promise<V1Pod[]>

interface Condition {
  type: string
  status: string
  reason?: string
  message?: string
}

const isTrue = (conditions: Condition[] | undefined, type: string) =>
  conditions?.find((c) => c.type === type && c.status === 'True')

export async function batchJobState(job: V1Job, pods: PodLoader): Promise<JobState> {
  const conditions = job.status?.conditions
  if (isTrue(conditions, 'Complete') ?? isTrue(conditions, 'SuccessCriteriaMet')) {
    return { state: 'succeeded' }
  }
  // FailureTarget (Kubernetes 1.31+) comes first, while the pods are still being terminated.
  const failed = isTrue(conditions, 'Failed') ?? isTrue(conditions, 'FailureTarget')
  if (failed) {
    if (failed.reason === 'DeadlineExceeded') {
      return {
        state: 'failed',
        reason: 'timeout',
        message: `the attempt ran longer than its limit of ${job.spec?.activeDeadlineSeconds} s`,
      }
    }
    return podFailure(await pods(), failed.message ?? failed.reason ?? 'the Job failed')
  }
  // Suspended: created, its Secret not yet in place (or its start was interrupted).
  if (job.spec?.suspend) return { state: 'pending' }
  // `ready` counts pods whose containers run (the trainer has no readiness probe). Clusters
  // older than 1.24 lack it: ask the pods.
  if (job.status?.ready !== undefined) {
    return job.status.ready > 0 ? { state: 'running' } : { state: 'pending' }
  }
  if ((job.status?.active ?? 0) === 0) return { state: 'pending' }
  const running = (await pods()).some((pod) => pod.status?.phase === 'Running')
  return { state: running ? 'running' : 'pending' }
}

export async function xgboostJobState(job: XGBoostJob, pods: PodLoader): Promise<JobState> {
  const conditions = job.status?.conditions
  if (isTrue(conditions, 'Succeeded')) return { state: 'succeeded' }
  const failed = isTrue(conditions, 'Failed')
  if (failed) {
    // The operator gives one reason (`XGBoostJobFailed`) to every failure; its message tells
    // the deadline apart ("… was active longer than specified deadline").
    if (/deadline/i.test(failed.message ?? '')) {
      return {
        state: 'failed',
        reason: 'timeout',
        message: `the attempt ran longer than its limit of ${job.spec.runPolicy.activeDeadlineSeconds} s`,
      }
    }
    return podFailure(await pods(), failed.message ?? 'the XGBoostJob failed')
  }
  if (job.spec.runPolicy.suspend) return { state: 'pending' }
  if (isTrue(conditions, 'Running')) return { state: 'running' }
  return { state: 'pending' }
}

interface PodEnd {
  exitCode?: number
  message: string
}

/**
 * The failure of an attempt from its pods: exit code 2 of any trainer container is the user's
 * (bad parameters, a missing column); an eviction, an OOM kill or any other code is a crash.
 */
function podFailure(pods: V1Pod[], fallback: string): JobState {
  const ends = pods
    .slice()
    .sort((a, b) => time(b) - time(a))
    .map(podEnd)
    .filter((end): end is PodEnd => end !== undefined)
  const userError = ends.find((end) => end.exitCode === 2)
  if (userError) {
    return { state: 'failed', reason: 'user_error', exitCode: 2, message: userError.message }
  }
  const crash = ends.find((end) => end.exitCode !== 0)
  if (crash) {
    return {
      state: 'failed',
      reason: 'crashed',
      ...(crash.exitCode !== undefined ? { exitCode: crash.exitCode } : {}),
      message: crash.message,
    }
  }
  return { state: 'failed', reason: 'crashed', message: fallback }
}

function time(pod: V1Pod): number {
  const created = pod.metadata?.creationTimestamp
  return created ? new Date(created).getTime() : 0
}

function podEnd(pod: V1Pod): PodEnd | undefined {
  const status = pod.status
  if (status?.reason === 'Evicted') {
    return { message: `the pod was evicted: ${status.message ?? 'no reason given'}` }
  }
  for (const container of status?.containerStatuses ?? []) {
    const terminated = container.state?.terminated ?? container.lastState?.terminated
    if (terminated) return { exitCode: terminated.exitCode, message: describe(terminated, pod) }
  }
  if (status?.phase === 'Failed') {
    return { message: status.message ?? status.reason ?? 'the pod failed' }
  }
  return undefined
}

function describe(terminated: V1ContainerStateTerminated, pod: V1Pod): string {
  if (terminated.reason === 'OOMKilled') {
    const limit = pod.spec?.containers[0]?.resources?.limits?.memory
    return `the trainer ran out of memory${limit ? ` (limit ${limit})` : ''} and was killed`
  }
  const reported = lastError(terminated.message)
  if (reported) return reported
  if (terminated.signal !== undefined)
    return `the trainer was killed by signal ${terminated.signal}`
  return `the trainer exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}`
}

/**
 * The trainer's own account of its failure: the contract's last stdout line is
 * `{"event":"error","message":…}`; with `FallbackToLogsOnError` the log tail is the container's
 * termination message. Else its last line.
 */
function lastError(message: string | undefined): string | undefined {
  const lines = (message ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  for (const line of lines.slice().reverse()) {
    if (!line.startsWith('{')) continue
    try {
      const parsed = JSON.parse(line) as { event?: unknown; message?: unknown }
      if (parsed.event === 'error' && typeof parsed.message === 'string') return parsed.message
    } catch {
      // not the contract's JSON line
    }
  }
  return lines.at(-1)
}
