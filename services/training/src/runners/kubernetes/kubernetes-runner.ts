import { setTimeout as sleep } from 'node:timers/promises'
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Watch,
  type KubeConfig,
  type V1Job,
  type V1OwnerReference,
  type V1Pod,
  type V1Secret,
} from '@kubernetes/client-node'
import type { JobRef, JobState, Runner, RunnerCapacity } from '../runner.ts'
import { LABEL, MANAGED_SELECTOR, attemptOf, attemptSelector } from './attempt-identity.ts'
import {
  TRAINER_CONTAINER,
  XGBOOSTJOB,
  attemptManifests,
  type KubernetesAttemptSpec,
  type XGBoostJob,
} from './attempt.manifest.ts'
import { batchJobState, xgboostJobState } from './attempt-state.ts'
import { isConflict, isNotFound, kubeError, type KubeStatus } from './kube-errors.ts'
import type { KubernetesRunnerSettings } from './kubernetes.settings.ts'

/** Where the runner's complaints go (a pino logger fits). */
export interface RunnerLog {
  warn(fields: Record<string, unknown>, message: string): void
}

export interface KubernetesRunnerOptions {
  /** `KubeConfig.loadFromDefault()`: in the cluster its ServiceAccount, else `KUBECONFIG`. */
  kubeConfig: KubeConfig
  settings: KubernetesRunnerSettings
  log?: RunnerLog
  /** First pause before a watch re-lists after an error (doubling up to 30 s). */
  watchRetryMs?: number
  /** How often `cancel` looks whether the workload is gone, and for how long at most. */
  cancelPollMs?: number
  cancelTimeoutMs?: number
}

type Kind = 'job' | 'xgboostjob'

/** The bytes of log a `logTail` reads at most, whatever the number of lines. */
const LOG_LIMIT_BYTES = 1024 * 1024
const MAX_WATCH_RETRY_MS = 30_000

/**
 * Runs each attempt as a `batch/v1` Job (one worker) or a Kubeflow `XGBoostJob` (several) in
 * the training namespace. The cluster holds all the state: the name of an attempt's workload
 * is derived from (run id, attempt), so `start` is idempotent and a restarted service finds
 * every attempt again by label (`list`). See README.md beside this file.
 */
export class KubernetesRunner implements Runner {
  readonly name = 'kubernetes' as const
  private readonly settings: KubernetesRunnerSettings
  private readonly namespace: string
  private readonly batch: BatchV1Api
  private readonly core: CoreV1Api
  private readonly custom: CustomObjectsApi
  private readonly watcher: Watch
  private readonly log: RunnerLog
  private readonly watchRetryMs: number
  private readonly cancelPollMs: number
  private readonly cancelTimeoutMs: number

  constructor(options: KubernetesRunnerOptions) {
    this.settings = options.settings
    this.namespace = options.settings.namespace
    this.batch = options.kubeConfig.makeApiClient(BatchV1Api)
    this.core = options.kubeConfig.makeApiClient(CoreV1Api)
    this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi)
    this.watcher = new Watch(options.kubeConfig)
    this.log = options.log ?? { warn: (fields, message) => console.warn(message, fields) }
    this.watchRetryMs = options.watchRetryMs ?? 1000
    this.cancelPollMs = options.cancelPollMs ?? 1000
    this.cancelTimeoutMs = options.cancelTimeoutMs ?? 120_000
  }

  capacity(): RunnerCapacity {
    const gpus = Object.values(this.settings.gpuPools).reduce((sum, pool) => sum + pool.gpus, 0)
    return { slots: this.settings.slots, gpus }
  }

  /**
   * Creates the workload suspended, then its Secret (owned by it), then resumes it. A second
   * call for the same attempt meets the first one's workload (409 AlreadyExists) and only
   * finishes what an interrupted first call left undone.
   */
  async start(spec: KubernetesAttemptSpec): Promise<JobRef> {
    const workload = attemptManifests(spec, this.settings)
    const { name } = workload
    const kind: Kind = workload.kind === 'Job' ? 'job' : 'xgboostjob'
    const ref: JobRef = {
      runner: 'kubernetes',
      id: `${kind}/${name}`,
      runId: spec.runId,
      attempt: spec.attempt,
    }
    const body = workload.kind === 'Job' ? workload.job : workload.xgboostJob
    let existing: V1Job | XGBoostJob
    try {
      existing = await this.create(kind, body)
    } catch (error) {
      if (!isConflict(error)) throw kubeError(error, `create ${body.kind} ${name}`)
      existing = await this.read(kind, name)
      const found = attemptOf(existing.metadata ?? {})
      if (found?.runId !== spec.runId || found.attempt !== spec.attempt) {
        throw new Error(
          `${body.kind} ${name} belongs to ${found ? `run ${found.runId} attempt ${found.attempt}` : 'something else'}, not run ${spec.runId} attempt ${spec.attempt}`,
        )
      }
    }
    if (!suspended(kind, existing)) return ref
    const owner: V1OwnerReference = {
      apiVersion: body.apiVersion!,
      kind: body.kind!,
      name,
      uid: existing.metadata!.uid!,
      controller: true,
    }
    await this.putSecret({
      ...workload.secret,
      metadata: { ...workload.secret.metadata, ownerReferences: [owner] },
    })
    await this.resume(kind, name)
    return ref
  }

  async state(job: JobRef): Promise<JobState> {
    const { kind, name } = parseRef(job)
    let object: V1Job | XGBoostJob
    try {
      object = await this.read(kind, name)
    } catch (error) {
      if (isNotFound(error)) return { state: 'missing' }
      throw kubeError(error, `read ${kind} ${name}`)
    }
    return this.stateOf(kind, object, job)
  }

  /**
   * Lists the workloads (one `onChange` each), then follows a watch from the list's
   * resourceVersion. When the watch ends — the server's timeout, a dropped connection, a 410
   * Expired — it lists again: what changed meanwhile is reported, what vanished is `missing`.
   */
  watch(onChange: (job: JobRef, state: JobState) => void): { stop(): Promise<void> } {
    const stopping = new AbortController()
    const last = new Map<string, { ref: JobRef; kind: Kind; state: string }>()
    const emit = (kind: Kind, ref: JobRef, state: JobState) => {
      const key = JSON.stringify(state)
      if (last.get(ref.id)?.state === key) return
      if (state.state === 'missing') last.delete(ref.id)
      else last.set(ref.id, { ref, kind, state: key })
      try {
        onChange(ref, state)
      } catch (error) {
        this.log.warn({ err: error, job: ref.id }, 'a training job watcher failed on a change')
      }
    }
    const kinds: Kind[] = this.settings.kubeflow ? ['job', 'xgboostjob'] : ['job']
    const loops = kinds.map((kind) => this.watchLoop(kind, emit, last, stopping.signal))
    return {
      stop: async () => {
        stopping.abort()
        await Promise.all(loops)
      },
    }
  }

  /**
   * Deletes the workload with foreground propagation — its pods go first, then it — and
   * resolves once it is gone: the GPUs are free and the trainer stopped.
   */
  async cancel(job: JobRef): Promise<void> {
    const { kind, name } = parseRef(job)
    try {
      if (kind === 'job') {
        await this.batch.deleteNamespacedJob({
          name,
          namespace: this.namespace,
          propagationPolicy: 'Foreground',
        })
      } else {
        await this.custom.deleteNamespacedCustomObject({
          ...this.xgboostPath(),
          name,
          propagationPolicy: 'Foreground',
        })
      }
    } catch (error) {
      if (isNotFound(error)) return
      throw kubeError(error, `delete ${kind} ${name}`)
    }
    let waitedMs = 0
    for (;;) {
      try {
        await this.read(kind, name)
      } catch (error) {
        if (isNotFound(error)) return
        throw kubeError(error, `read ${kind} ${name}`)
      }
      if (waitedMs >= this.cancelTimeoutMs) {
        throw new Error(
          `${kind} ${name} is still being deleted after ${Math.round(waitedMs / 1000)} s (its pods are terminating)`,
        )
      }
      await sleep(this.cancelPollMs)
      waitedMs += this.cancelPollMs
    }
  }

  /** The last lines of the trainer's log (the master's in an XGBoostJob); '' before it runs. */
  async logTail(job: JobRef, lines: number): Promise<string> {
    const tailLines = Math.max(1, Math.min(Math.floor(lines), 100_000))
    const pods = (await this.pods(job.runId, job.attempt))
      .filter((pod) => pod.metadata?.labels?.[LABEL.replica] !== 'worker')
      .sort((a, b) => created(b) - created(a))
    const pod = pods[0]
    if (!pod?.metadata?.name) return ''
    const container = job.id.startsWith('xgboostjob/') ? XGBOOSTJOB.container : TRAINER_CONTAINER
    try {
      return await this.core.readNamespacedPodLog({
        name: pod.metadata.name,
        namespace: this.namespace,
        container,
        tailLines,
        limitBytes: LOG_LIMIT_BYTES,
      })
    } catch (error) {
      // 404: the pod went meanwhile; 400: its container has not started yet.
      if (isNotFound(error) || (error as { code?: number }).code === 400) return ''
      throw kubeError(error, `read the log of pod ${pod.metadata.name}`)
    }
  }

  async list(): Promise<JobRef[]> {
    const refs: JobRef[] = []
    for (const kind of this.settings.kubeflow
      ? (['job', 'xgboostjob'] as const)
      : (['job'] as const)) {
      const { items } = await this.listKind(kind)
      for (const item of items) {
        const ref = refOf(kind, item)
        if (ref) refs.push(ref)
      }
    }
    return refs
  }

  // --- the API calls -------------------------------------------------------------------

  private xgboostPath() {
    return {
      group: XGBOOSTJOB.group,
      version: XGBOOSTJOB.version,
      namespace: this.namespace,
      plural: XGBOOSTJOB.plural,
    }
  }

  private async create(kind: Kind, body: V1Job | XGBoostJob): Promise<V1Job | XGBoostJob> {
    // Strict: the API server refuses a field it does not know instead of dropping it.
    if (kind === 'job') {
      return this.batch.createNamespacedJob({
        namespace: this.namespace,
        body: body as V1Job,
        fieldValidation: 'Strict',
      })
    }
    return (await this.custom.createNamespacedCustomObject({
      ...this.xgboostPath(),
      body,
      fieldValidation: 'Strict',
    })) as XGBoostJob
  }

  private async read(kind: Kind, name: string): Promise<V1Job | XGBoostJob> {
    if (kind === 'job') return this.batch.readNamespacedJob({ name, namespace: this.namespace })
    return (await this.custom.getNamespacedCustomObject({
      ...this.xgboostPath(),
      name,
    })) as XGBoostJob
  }

  private async listKind(
    kind: Kind,
  ): Promise<{ items: Array<V1Job | XGBoostJob>; resourceVersion: string | undefined }> {
    try {
      if (kind === 'job') {
        const list = await this.batch.listNamespacedJob({
          namespace: this.namespace,
          labelSelector: MANAGED_SELECTOR,
        })
        return { items: list.items, resourceVersion: list.metadata?.resourceVersion }
      }
      const list = (await this.custom.listNamespacedCustomObject({
        ...this.xgboostPath(),
        labelSelector: MANAGED_SELECTOR,
      })) as { items: XGBoostJob[]; metadata?: { resourceVersion?: string } }
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion }
    } catch (error) {
      throw kubeError(error, `list ${kind === 'job' ? 'Jobs' : 'XGBoostJobs'} in ${this.namespace}`)
    }
  }

  /** Creates the attempt's Secret, or replaces the one an interrupted `start` left. */
  private async putSecret(secret: V1Secret): Promise<void> {
    const name = secret.metadata!.name!
    try {
      await this.core.createNamespacedSecret({ namespace: this.namespace, body: secret })
      return
    } catch (error) {
      if (!isConflict(error)) throw kubeError(error, `create Secret ${name}`)
    }
    try {
      const current = await this.core.readNamespacedSecret({ name, namespace: this.namespace })
      await this.core.replaceNamespacedSecret({
        name,
        namespace: this.namespace,
        body: {
          ...secret,
          metadata: { ...secret.metadata, resourceVersion: current.metadata?.resourceVersion },
        },
      })
    } catch (error) {
      // Conflict: a concurrent start of the same attempt replaced it first; its copy will do.
      if (isConflict(error)) return
      throw kubeError(error, `replace Secret ${name}`)
    }
  }

  private async resume(kind: Kind, name: string): Promise<void> {
    try {
      if (kind === 'job') {
        await this.batch.patchNamespacedJob({
          name,
          namespace: this.namespace,
          body: [{ op: 'replace', path: '/spec/suspend', value: false }],
        })
      } else {
        await this.custom.patchNamespacedCustomObject({
          ...this.xgboostPath(),
          name,
          body: [{ op: 'replace', path: '/spec/runPolicy/suspend', value: false }],
        })
      }
    } catch (error) {
      throw kubeError(error, `resume ${kind} ${name}`)
    }
  }

  private async pods(runId: string, attempt: number): Promise<V1Pod[]> {
    try {
      const list = await this.core.listNamespacedPod({
        namespace: this.namespace,
        labelSelector: attemptSelector(runId, attempt),
      })
      return list.items
    } catch (error) {
      throw kubeError(error, `list the pods of run ${runId} attempt ${attempt}`)
    }
  }

  private stateOf(kind: Kind, object: V1Job | XGBoostJob, ref: JobRef): Promise<JobState> {
    const pods = () => this.pods(ref.runId, ref.attempt)
    return kind === 'job'
      ? batchJobState(object as V1Job, pods)
      : xgboostJobState(object as XGBoostJob, pods)
  }

  // --- the watch -----------------------------------------------------------------------

  private async watchLoop(
    kind: Kind,
    emit: (kind: Kind, ref: JobRef, state: JobState) => void,
    last: Map<string, { ref: JobRef; kind: Kind }>,
    stopping: AbortSignal,
  ): Promise<void> {
    let delay = this.watchRetryMs
    while (!stopping.aborted) {
      try {
        const { items, resourceVersion } = await this.listKind(kind)
        const seen = new Set<string>()
        for (const item of items) {
          const ref = refOf(kind, item)
          if (!ref) continue
          seen.add(ref.id)
          emit(kind, ref, await this.stateOf(kind, item, ref))
        }
        for (const [id, known] of [...last]) {
          if (known.kind === kind && !seen.has(id)) emit(kind, known.ref, { state: 'missing' })
        }
        delay = this.watchRetryMs
        if (stopping.aborted) break
        await this.watchOnce(kind, resourceVersion, emit, stopping)
      } catch (error) {
        if (stopping.aborted) break
        this.log.warn(
          { err: error, kind, retryInMs: delay },
          'the training jobs watch failed; listing again',
        )
        await sleep(delay, undefined, { signal: stopping }).catch(() => undefined)
        delay = Math.min(delay * 2, MAX_WATCH_RETRY_MS)
        continue
      }
      // The server ended the watch (its timeout): list again after the base pause, which keeps
      // a proxy that closes every watch at once from turning this into a busy loop.
      await sleep(this.watchRetryMs, undefined, { signal: stopping }).catch(() => undefined)
    }
  }

  /** Follows one watch connection; resolves when it ends, rejects on an error. */
  private watchOnce(
    kind: Kind,
    resourceVersion: string | undefined,
    emit: (kind: Kind, ref: JobRef, state: JobState) => void,
    stopping: AbortSignal,
  ): Promise<void> {
    const path =
      kind === 'job'
        ? `/apis/batch/v1/namespaces/${this.namespace}/jobs`
        : `/apis/${XGBOOSTJOB.group}/${XGBOOSTJOB.version}/namespaces/${this.namespace}/${XGBOOSTJOB.plural}`
    return new Promise((resolve, reject) => {
      let queue = Promise.resolve()
      let failure: Error | undefined
      let controller: AbortController | undefined
      const abort = () => controller?.abort()
      stopping.addEventListener('abort', abort, { once: true })
      const handle = async (type: string, object: unknown) => {
        if (type === 'ERROR') {
          // 410 Expired: the resourceVersion is too old to resume from; the loop lists again.
          const status = object as KubeStatus
          failure = new Error(
            `watch error ${status.code ?? ''} ${status.reason ?? ''}: ${status.message ?? ''}`,
          )
          abort()
          return
        }
        if (type === 'BOOKMARK') return
        const item = object as V1Job | XGBoostJob
        const ref = refOf(kind, item)
        if (!ref) return
        if (type === 'DELETED') emit(kind, ref, { state: 'missing' })
        else emit(kind, ref, await this.stateOf(kind, item, ref))
      }
      this.watcher
        .watch(
          path,
          { labelSelector: MANAGED_SELECTOR, resourceVersion, allowWatchBookmarks: true },
          (type, object) => {
            queue = queue
              .then(() => handle(type, object))
              .catch((error: unknown) => {
                failure = error instanceof Error ? error : new Error(String(error))
                abort()
              })
          },
          (error: unknown) => {
            stopping.removeEventListener('abort', abort)
            void queue.then(() => {
              if (stopping.aborted) resolve()
              else if (failure) reject(failure)
              else if (error) reject(error instanceof Error ? error : new Error(String(error)))
              else resolve()
            })
          },
        )
        .then(
          (started) => {
            controller = started
            if (stopping.aborted) started.abort()
          },
          (error: unknown) => {
            stopping.removeEventListener('abort', abort)
            reject(error instanceof Error ? error : new Error(String(error)))
          },
        )
    })
  }
}

function suspended(kind: Kind, object: V1Job | XGBoostJob): boolean {
  return kind === 'job'
    ? (object as V1Job).spec?.suspend === true
    : (object as XGBoostJob).spec.runPolicy.suspend === true
}

function created(pod: V1Pod): number {
  const at = pod.metadata?.creationTimestamp
  return at ? new Date(at).getTime() : 0
}

/** `job/<name>` or `xgboostjob/<name>` (what `start` and `list` hand out). */
function parseRef(ref: JobRef): { kind: Kind; name: string } {
  const [kind, name, ...rest] = ref.id.split('/')
  if ((kind !== 'job' && kind !== 'xgboostjob') || !name || rest.length > 0) {
    throw new Error(`not a kubernetes job reference: ${ref.id}`)
  }
  return { kind, name }
}

function refOf(kind: Kind, object: V1Job | XGBoostJob): JobRef | undefined {
  const attempt = attemptOf(object.metadata ?? {})
  const name = object.metadata?.name
  if (!attempt || !name) return undefined
  return { runner: 'kubernetes', id: `${kind}/${name}`, ...attempt }
}
