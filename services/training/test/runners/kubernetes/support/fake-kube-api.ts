import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig, type V1Job, type V1Pod, type V1Secret } from '@kubernetes/client-node'
import {
  checkJob,
  checkModel,
  checkSecret,
  checkXGBoostJob,
  type SchemaReport,
} from './kube-schema.ts'

/**
 * A Kubernetes API server in miniature, for the one thing that cannot run here: a cluster. It
 * speaks the real API's paths, shapes and refusals for what the training runner touches —
 *
 * - `batch/v1` Jobs, core Secrets and Pods, and `kubeflow.org/v1` XGBoostJobs (custom objects):
 *   create (201; 409 AlreadyExists; 400 on `fieldValidation=Strict` and an unknown field; 422
 *   Invalid on what validation refuses), get (404 NotFound), list with `labelSelector` and
 *   `fieldSelector`, replace (409 Conflict on a stale resourceVersion), JSON and merge patches,
 *   delete with `propagationPolicy` (Foreground keeps the object with a deletionTimestamp until
 *   its dependents are gone; Background deletes them after it; a Job's default is Orphan, as
 *   for batch/v1), garbage collection by ownerReferences;
 * - watches (`?watch=true`): JSON lines of ADDED / MODIFIED / DELETED from a resourceVersion,
 *   or the current objects first without one; ERROR with a 410 Expired Status for a compacted
 *   resourceVersion; connections that can be ended or cut;
 * - pod logs (`/pods/{name}/log?container&tailLines&limitBytes`) as text/plain, 400 while the
 *   container waits to start;
 * - Status objects for every refusal, a bearer token required (401 otherwise).
 *
 * The controllers are played by the tests through `jobController` and `xgboostOperator`: they
 * change pods and statuses as the Job controller, the kubelet and the Training Operator do.
 */

interface Resource {
  group: string
  version: string
  plural: string
  kind: string
  /** `jobs.batch`, `secrets`: how Status messages name the resource. */
  qualified: string
  check: (object: Record<string, unknown>) => SchemaReport
}

const RESOURCES: Record<string, Resource> = {
  jobs: {
    group: 'batch',
    version: 'v1',
    plural: 'jobs',
    kind: 'Job',
    qualified: 'jobs.batch',
    check: (o) => checkJob(o as V1Job),
  },
  secrets: {
    group: '',
    version: 'v1',
    plural: 'secrets',
    kind: 'Secret',
    qualified: 'secrets',
    check: (o) => checkSecret(o as V1Secret),
  },
  pods: {
    group: '',
    version: 'v1',
    plural: 'pods',
    kind: 'Pod',
    qualified: 'pods',
    check: (o) => checkModel('V1Pod', o),
  },
  xgboostjobs: {
    group: 'kubeflow.org',
    version: 'v1',
    plural: 'xgboostjobs',
    kind: 'XGBoostJob',
    qualified: 'xgboostjobs.kubeflow.org',
    check: (o) => checkXGBoostJob(o),
  },
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type KubeObject = Record<string, any> & {
  metadata: {
    name: string
    namespace: string
    uid: string
    resourceVersion: string
    labels?: Record<string, string>
    ownerReferences?: Array<{ uid: string; name: string; kind: string; [field: string]: unknown }>
    deletionTimestamp?: string
    finalizers?: string[]
    [field: string]: unknown
  }
}

interface WatchEvent {
  rv: number
  plural: string
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  object: KubeObject
}

interface Watcher {
  plural: string
  namespace: string
  selector: Selector
  fieldName: string | undefined
  response: ServerResponse
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  contentType: string | undefined
  body: unknown
}

type Requirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!exists' }
type Selector = Requirement[]

/** Parses a label selector as the API server does: `a=b`, `a!=b`, `a`, `!a`, `a in (x,y)`. */
export function parseSelector(text: string | undefined): Selector {
  if (!text) return []
  const parts = text.match(/([^,(]+(\([^)]*\))?)/g) ?? []
  return parts.map((raw) => {
    const part = raw.trim()
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part)
    if (m)
      return {
        key: m[1]!,
        op: m[2] as 'in' | 'notin',
        values: m[3]!.split(',').map((v) => v.trim()),
      }
    m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part)
    if (m) return { key: m[1]!, op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] }
    if (part.startsWith('!')) return { key: part.slice(1), op: '!exists' }
    if (/^[^\s=!]+$/.test(part)) return { key: part, op: 'exists' }
    throw new Error(`unable to parse requirement: ${part}`)
  })
}

function matches(selector: Selector, labels: Record<string, string> | undefined): boolean {
  return selector.every((r) => {
    const value = labels?.[r.key]
    switch (r.op) {
      case 'exists':
        return value !== undefined
      case '!exists':
        return value === undefined
      case 'in':
        return value !== undefined && r.values.includes(value)
      case 'notin':
        return value === undefined || !r.values.includes(value)
    }
  })
}

function statusBody(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  }
}

class HttpStatus extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
  }
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
const clone = <T>(value: T): T => structuredClone(value)

export interface FakeKubeApiOptions {
  /** Whether the XGBoostJob CRD is installed (else its paths answer 404 like any unknown path). */
  xgboostCrd?: boolean
}

export class FakeKubeApi {
  readonly token = `fake-${randomBytes(8).toString('hex')}`
  readonly requests: RecordedRequest[] = []
  /** Hold Foreground deletions until `finishDeletions()` (the GC is slow, pods terminate). */
  holdForegroundDeletions = false
  private readonly objects = new Map<string, KubeObject>()
  private readonly history: WatchEvent[] = []
  private readonly watchers = new Set<Watcher>()
  private readonly logs = new Map<string, string>()
  private readonly failures: Array<{
    method: string
    path: RegExp
    code: number
    times: number
    reason: string
    message: string
  }> = []
  private expireWatches = 0
  private compactedBefore = 0
  private revision = 1000
  private server: Server | undefined
  private base = ''
  private readonly xgboostCrd: boolean

  constructor(options: FakeKubeApiOptions = {}) {
    this.xgboostCrd = options.xgboostCrd ?? true
  }

  static async start(options?: FakeKubeApiOptions): Promise<FakeKubeApi> {
    const api = new FakeKubeApi(options)
    api.server = createServer((req, res) => void api.handle(req, res))
    await new Promise<void>((resolve) => api.server!.listen(0, '127.0.0.1', resolve))
    api.base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`
    return api
  }

  get url(): string {
    return this.base
  }

  /** A KubeConfig for this server, as a kubeconfig file would give it. */
  kubeConfig(namespace = 'default'): KubeConfig {
    const config = new KubeConfig()
    config.loadFromOptions({
      clusters: [{ name: 'fake', server: this.base, skipTLSVerify: true }],
      users: [{ name: 'training', token: this.token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'training', namespace }],
      currentContext: 'fake',
    })
    return config
  }

  async close(): Promise<void> {
    for (const watcher of this.watchers) watcher.response.destroy()
    this.watchers.clear()
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
  }

  // --- inspection and fault injection ---------------------------------------------------

  get(plural: string, namespace: string, name: string): KubeObject | undefined {
    const object = this.objects.get(key(plural, namespace, name))
    return object ? clone(object) : undefined
  }

  list(plural: string, namespace?: string): KubeObject[] {
    return [...this.objects.values()]
      .filter(
        (o) => this.pluralOf(o) === plural && (!namespace || o.metadata.namespace === namespace),
      )
      .map(clone)
  }

  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path))
  }

  /**
   * The next `times` requests matching answer `code` with a Status: 503 by default, or e.g. a
   * 403 with the message RBAC gives.
   */
  failNext(
    method: string,
    path: RegExp,
    code: number,
    options: { times?: number; reason?: string; message?: string } = {},
  ): void {
    this.failures.push({
      method,
      path,
      code,
      times: options.times ?? 1,
      reason: options.reason ?? (code === 429 ? 'TooManyRequests' : 'ServiceUnavailable'),
      message: options.message ?? 'the server is currently unable to handle the request',
    })
  }

  /** Ends every open watch the way the server does at its timeout. */
  endWatches(): void {
    for (const watcher of this.watchers) watcher.response.end()
    this.watchers.clear()
  }

  /** Cuts every open watch connection (a network failure, an API server restart). */
  dropWatches(): void {
    for (const watcher of this.watchers) watcher.response.socket?.destroy()
    this.watchers.clear()
  }

  /** The next `count` watches answer 410 Expired, as after an etcd compaction. */
  expireNextWatches(count = 1): void {
    this.expireWatches += count
  }

  openWatches(): number {
    return this.watchers.size
  }

  setLog(namespace: string, pod: string, container: string, text: string): void {
    this.logs.set(`${namespace}/${pod}/${container}`, text)
  }

  /** Completes pending Foreground deletions: dependents first, then the owner. */
  finishDeletions(): void {
    for (const object of [...this.objects.values()]) {
      if (object.metadata.finalizers?.includes('foregroundDeletion')) this.collect(object)
    }
  }

  // --- what controllers do (the tests play them) ----------------------------------------

  /** Writes an object as a controller would (status updates, pods); emits the watch event. */
  write(plural: string, object: KubeObject): KubeObject {
    const k = key(plural, object.metadata.namespace, object.metadata.name)
    const existing = this.objects.has(k)
    object.metadata.resourceVersion = String(++this.revision)
    this.objects.set(k, clone(object))
    this.emit(plural, existing ? 'MODIFIED' : 'ADDED', object)
    return clone(object)
  }

  updateStatus(plural: string, namespace: string, name: string, status: Record<string, unknown>) {
    const object = this.get(plural, namespace, name)
    if (!object) throw new Error(`no ${plural} ${namespace}/${name}`)
    object.status = status
    return this.write(plural, object)
  }

  readonly jobController = {
    /** The Job controller creates the pod (it must be resumed); the scheduler may not place it. */
    createPod: (namespace: string, jobName: string, options: { unschedulable?: string } = {}) => {
      const job = this.get('jobs', namespace, jobName) as V1Job & KubeObject
      if (!job) throw new Error(`no Job ${jobName}`)
      if (job.spec?.suspend)
        throw new Error(`Job ${jobName} is suspended: the controller creates no pod`)
      const template = job.spec!.template
      const pod: KubeObject = this.podFrom(
        namespace,
        `${jobName}-${randomBytes(3).toString('hex').slice(0, 5)}`,
        template,
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name: jobName,
          uid: job.metadata.uid,
        },
      )
      pod.status = options.unschedulable
        ? {
            phase: 'Pending',
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message: options.unschedulable,
                lastTransitionTime: now(),
              },
            ],
            qosClass: 'Guaranteed',
          }
        : {
            phase: 'Pending',
            conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now() }],
            containerStatuses: template.spec!.containers.map((c) => ({
              name: c.name,
              image: c.image,
              imageID: '',
              ready: false,
              restartCount: 0,
              started: false,
              state: { waiting: { reason: 'ContainerCreating' } },
            })),
            qosClass: 'Guaranteed',
          }
      this.write('pods', pod)
      this.updateStatus('jobs', namespace, jobName, {
        active: 1,
        ready: 0,
        startTime: now(),
        terminating: 0,
        uncountedTerminatedPods: {},
      })
      return pod.metadata.name
    },
    /** The kubelet starts the container; the Job counts a ready pod. */
    runPod: (namespace: string, jobName: string, log = '') => {
      const pod = this.podOf(namespace, 'batch.kubernetes.io/job-name', jobName)
      this.setRunning(pod, log)
      const job = this.get('jobs', namespace, jobName)!
      this.updateStatus('jobs', namespace, jobName, { ...job.status, active: 1, ready: 1 })
    },
    /** The trainer exits; the Job completes or fails (backoffLimit 0: at the first failure). */
    exitPod: (
      namespace: string,
      jobName: string,
      exitCode: number,
      options: { reason?: string; log?: string; signal?: number } = {},
    ) => {
      const pod = this.podOf(namespace, 'batch.kubernetes.io/job-name', jobName)
      this.setTerminated(pod, exitCode, options)
      const job = this.get('jobs', namespace, jobName)!
      const at = now()
      if (exitCode === 0) {
        const reached = {
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        }
        this.updateStatus('jobs', namespace, jobName, {
          ...job.status,
          active: 0,
          ready: 0,
          succeeded: 1,
          completionTime: at,
          conditions: [
            {
              type: 'SuccessCriteriaMet',
              status: 'True',
              ...reached,
              lastProbeTime: at,
              lastTransitionTime: at,
            },
            {
              type: 'Complete',
              status: 'True',
              ...reached,
              lastProbeTime: at,
              lastTransitionTime: at,
            },
          ],
        })
      } else {
        this.failJob(
          namespace,
          jobName,
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
        )
      }
    },
    /** The kubelet evicts the pod (node pressure); the Job fails. */
    evictPod: (namespace: string, jobName: string) => {
      const pod = this.podOf(namespace, 'batch.kubernetes.io/job-name', jobName)
      this.setTerminated(pod, 137, { reason: 'Error' })
      const evicted = this.get('pods', namespace, pod.metadata.name)!
      evicted.status = {
        ...evicted.status,
        phase: 'Failed',
        reason: 'Evicted',
        message:
          'The node was low on resource: memory. Threshold quantity: 100Mi, available: 42Mi.',
      }
      this.write('pods', evicted)
      this.failJob(
        namespace,
        jobName,
        'BackoffLimitExceeded',
        'Job has reached the specified backoff limit',
      )
    },
    /** activeDeadlineSeconds passed: the controller deletes the pod and fails the Job. */
    exceedDeadline: (namespace: string, jobName: string) => {
      const pod = this.podOf(namespace, 'batch.kubernetes.io/job-name', jobName)
      this.remove(pod)
      this.failJob(
        namespace,
        jobName,
        'DeadlineExceeded',
        'Job was active longer than specified deadline',
      )
    },
    /** ttlSecondsAfterFinished passed: the TTL controller deletes the Job (Background). */
    expireTtl: (namespace: string, jobName: string) => {
      this.deleteObject(RESOURCES.jobs!, namespace, jobName, 'Background')
    },
  }

  readonly xgboostOperator = {
    /** The operator creates a pod per replica (the job must be resumed) and marks it Running. */
    startPods: (namespace: string, name: string) => {
      const job = this.get('xgboostjobs', namespace, name)
      if (!job) throw new Error(`no XGBoostJob ${name}`)
      if (job.spec.runPolicy?.suspend) throw new Error(`XGBoostJob ${name} is suspended`)
      const counts: Record<string, number> = {}
      for (const [type, replica] of Object.entries(
        job.spec.xgbReplicaSpecs as Record<string, { replicas: number; template: V1Pod }>,
      )) {
        counts[type] = replica.replicas
        for (let i = 0; i < replica.replicas; i++) {
          const pod = this.podFrom(
            namespace,
            `${name}-${type.toLowerCase()}-${i}`,
            replica.template,
            {
              apiVersion: 'kubeflow.org/v1',
              kind: 'XGBoostJob',
              name,
              uid: job.metadata.uid,
            },
          )
          Object.assign(pod.metadata!.labels!, {
            'training.kubeflow.org/job-name': name,
            'training.kubeflow.org/operator-name': 'xgboostjob-controller',
            'training.kubeflow.org/replica-type': type.toLowerCase(),
            'training.kubeflow.org/replica-index': String(i),
            ...(type === 'Master' ? { 'training.kubeflow.org/job-role': 'master' } : {}),
          })
          this.write('pods', pod)
          this.setRunning(pod, '')
        }
      }
      const at = now()
      this.updateStatus('xgboostjobs', namespace, name, {
        conditions: [
          {
            type: 'Created',
            status: 'True',
            reason: 'XGBoostJobCreated',
            message: `xgboostJob ${name} is created.`,
            lastUpdateTime: at,
            lastTransitionTime: at,
          },
          {
            type: 'Running',
            status: 'True',
            reason: 'XGBoostJobRunning',
            message: `XGBoostJob ${name} is running.`,
            lastUpdateTime: at,
            lastTransitionTime: at,
          },
        ],
        replicaStatuses: Object.fromEntries(
          Object.entries(counts).map(([t, n]) => [t, { active: n }]),
        ),
        startTime: at,
      })
    },
    /** The master ends: the job succeeds with it, or fails ("1 Master replica(s) failed"). */
    finishMaster: (namespace: string, name: string, exitCode: number, log = '') => {
      const pod = this.get('pods', namespace, `${name}-master-0`)!
      this.setTerminated(pod, exitCode, { log })
      const job = this.get('xgboostjobs', namespace, name)!
      const at = now()
      const running = (job.status.conditions as Array<Record<string, string>>).map((c) =>
        c.type === 'Running' ? { ...c, status: 'False', lastTransitionTime: at } : c,
      )
      const ended =
        exitCode === 0
          ? {
              type: 'Succeeded',
              status: 'True',
              reason: 'XGBoostJobSucceeded',
              message: `XGBoostJob ${name} is successfully completed.`,
            }
          : {
              type: 'Failed',
              status: 'True',
              reason: 'XGBoostJobFailed',
              message: `XGBoostJob ${name} is failed because 1 Master replica(s) failed.`,
            }
      this.updateStatus('xgboostjobs', namespace, name, {
        ...job.status,
        conditions: [...running, { ...ended, lastUpdateTime: at, lastTransitionTime: at }],
        replicaStatuses: {
          ...job.status.replicaStatuses,
          Master: exitCode === 0 ? { succeeded: 1 } : { failed: 1 },
        },
        completionTime: at,
      })
    },
    exceedDeadline: (namespace: string, name: string) => {
      const job = this.get('xgboostjobs', namespace, name)!
      const at = now()
      for (const pod of this.list('pods', namespace)) {
        if (pod.metadata.labels?.['training.kubeflow.org/job-name'] === name) this.remove(pod)
      }
      this.updateStatus('xgboostjobs', namespace, name, {
        ...job.status,
        conditions: [
          ...(job.status?.conditions ?? []),
          {
            type: 'Failed',
            status: 'True',
            reason: 'XGBoostJobFailed',
            message: `Job ${name} has failed because it was active longer than specified deadline`,
            lastUpdateTime: at,
            lastTransitionTime: at,
          },
        ],
        completionTime: at,
      })
    },
  }

  private failJob(namespace: string, jobName: string, reason: string, message: string) {
    const job = this.get('jobs', namespace, jobName)!
    const at = now()
    this.updateStatus('jobs', namespace, jobName, {
      ...job.status,
      active: 0,
      ready: 0,
      failed: 1,
      conditions: [
        {
          type: 'FailureTarget',
          status: 'True',
          reason,
          message,
          lastProbeTime: at,
          lastTransitionTime: at,
        },
        {
          type: 'Failed',
          status: 'True',
          reason,
          message,
          lastProbeTime: at,
          lastTransitionTime: at,
        },
      ],
    })
  }

  private podFrom(
    namespace: string,
    name: string,
    template: { metadata?: { labels?: Record<string, string> }; spec?: V1Pod['spec'] },
    owner: { apiVersion: string; kind: string; name: string; uid: string },
  ): KubeObject {
    const labels = { ...(template.metadata?.labels ?? {}) }
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        uid: randomUUID(),
        resourceVersion: '',
        creationTimestamp: now(),
        labels,
        ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }],
      },
      spec: clone(template.spec!),
      status: { phase: 'Pending' },
    } as unknown as KubeObject
  }

  private podOf(namespace: string, label: string, value: string): KubeObject {
    const pods = this.list('pods', namespace).filter((p) => p.metadata.labels?.[label] === value)
    if (pods.length === 0) throw new Error(`no pod with ${label}=${value}`)
    return pods.at(-1)!
  }

  private setRunning(pod: KubeObject, log: string) {
    const current = this.get('pods', pod.metadata.namespace, pod.metadata.name)!
    const at = now()
    current.status = {
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
        { type: 'Initialized', status: 'True', lastTransitionTime: at },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: at },
        { type: 'Ready', status: 'True', lastTransitionTime: at },
      ],
      containerStatuses: (current.spec.containers as Array<{ name: string; image: string }>).map(
        (c) => ({
          name: c.name,
          image: c.image,
          imageID: `${c.image}@sha256:${'0'.repeat(64)}`,
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: at } },
        }),
      ),
      startTime: at,
      qosClass: 'Guaranteed',
    }
    this.write('pods', current)
    for (const c of current.spec.containers as Array<{ name: string }>) {
      this.setLog(current.metadata.namespace, current.metadata.name, c.name, log)
    }
  }

  private setTerminated(
    pod: KubeObject,
    exitCode: number,
    options: { reason?: string; log?: string; signal?: number },
  ) {
    const current = this.get('pods', pod.metadata.namespace, pod.metadata.name)!
    const containers = current.spec.containers as Array<{
      name: string
      terminationMessagePolicy?: string
    }>
    const at = now()
    for (const c of containers) {
      const logKey = `${current.metadata.namespace}/${current.metadata.name}/${c.name}`
      const log = (this.logs.get(logKey) ?? '') + (options.log ?? '')
      this.logs.set(logKey, log)
    }
    current.status = {
      ...current.status,
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: containers.map((c) => {
        // The kubelet's FallbackToLogsOnError: the log's last 80 lines or 2048 bytes.
        const log =
          this.logs.get(`${current.metadata.namespace}/${current.metadata.name}/${c.name}`) ?? ''
        const message =
          exitCode !== 0 && c.terminationMessagePolicy === 'FallbackToLogsOnError'
            ? tail(log, 80).slice(-2048)
            : undefined
        return {
          name: c.name,
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            terminated: {
              exitCode,
              reason: options.reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
              ...(message ? { message } : {}),
              ...(options.signal !== undefined ? { signal: options.signal } : {}),
              startedAt: at,
              finishedAt: at,
              containerID: `containerd://${randomBytes(8).toString('hex')}`,
            },
          },
        }
      }),
    }
    this.write('pods', current)
  }

  // --- HTTP ------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base)
    const query = Object.fromEntries(url.searchParams)
    let body: unknown
    try {
      const raw = await readBody(req)
      const contentType = req.headers['content-type']
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'))
        } catch {
          throw new HttpStatus(
            400,
            'BadRequest',
            `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
          )
        }
      }
      this.requests.push({ method: req.method!, path: url.pathname, query, contentType, body })
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        throw new HttpStatus(401, 'Unauthorized', 'Unauthorized')
      }
      const failure = this.failures.find(
        (f) => f.method === req.method && f.path.test(url.pathname),
      )
      if (failure) {
        if (--failure.times <= 0) this.failures.splice(this.failures.indexOf(failure), 1)
        throw new HttpStatus(failure.code, failure.reason, failure.message)
      }
      this.route(req.method!, url.pathname, query, body, contentType, res)
    } catch (error) {
      if (error instanceof HttpStatus) {
        send(res, error.code, statusBody(error.code, error.reason, error.message, error.details))
      } else {
        send(res, 500, statusBody(500, 'InternalError', String(error)))
      }
    }
  }

  private route(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
    contentType: string | undefined,
    res: ServerResponse,
  ): void {
    const m =
      /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+)(?:\/(log))?)?$/.exec(
        path,
      )
    const resource = m ? RESOURCES[m[4]!] : undefined
    const notFound = () =>
      new HttpStatus(404, 'NotFound', 'the server could not find the requested resource', {})
    if (!m || !resource) throw notFound()
    const [, group = '', version = 'v1', namespace, , name, sub] = m
    if (group !== resource.group || version !== resource.version) throw notFound()
    if (resource.plural === 'xgboostjobs' && !this.xgboostCrd) throw notFound()
    if (sub === 'log') {
      if (resource.plural !== 'pods' || method !== 'GET') throw notFound()
      return this.podLog(namespace!, name!, query, res)
    }
    if (name === undefined) {
      if (method === 'GET') {
        if (query.watch === 'true' || query.watch === '1')
          return this.watch(resource, namespace!, query, res)
        return send(res, 200, this.listObjects(resource, namespace!, query))
      }
      if (method === 'POST') return send(res, 201, this.create(resource, namespace!, body, query))
      throw new HttpStatus(
        405,
        'MethodNotAllowed',
        `the server does not allow this method on the requested resource`,
      )
    }
    switch (method) {
      case 'GET':
        return send(res, 200, this.mustGet(resource, namespace!, name))
      case 'PUT':
        return send(res, 200, this.replace(resource, namespace!, name, body, query))
      case 'PATCH':
        return send(res, 200, this.patch(resource, namespace!, name, body, contentType))
      case 'DELETE': {
        const policy =
          query.propagationPolicy ??
          (body as { propagationPolicy?: string } | undefined)?.propagationPolicy ??
          (query.orphanDependents === 'true' ? 'Orphan' : undefined)
        const answer = this.deleteObject(resource, namespace!, name, policy)
        return send(res, 200, answer)
      }
      default:
        throw new HttpStatus(
          405,
          'MethodNotAllowed',
          `the server does not allow this method on the requested resource`,
        )
    }
  }

  private notFound(resource: Resource, name: string) {
    return new HttpStatus(404, 'NotFound', `${resource.qualified} "${name}" not found`, {
      name,
      group: resource.group || undefined,
      kind: resource.plural,
    })
  }

  private mustGet(resource: Resource, namespace: string, name: string): KubeObject {
    const object = this.objects.get(key(resource.plural, namespace, name))
    if (!object) throw this.notFound(resource, name)
    return clone(object)
  }

  private listObjects(resource: Resource, namespace: string, query: Record<string, string>) {
    const selector = parseSelector(query.labelSelector)
    const fieldName = fieldSelectorName(query.fieldSelector)
    const items = this.list(resource.plural, namespace)
      .filter((o) => matches(selector, o.metadata.labels))
      .filter((o) => fieldName === undefined || o.metadata.name === fieldName)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    return {
      kind: `${resource.kind}List`,
      apiVersion: resource.group ? `${resource.group}/${resource.version}` : resource.version,
      metadata: { resourceVersion: String(this.revision) },
      items,
    }
  }

  private validate(
    resource: Resource,
    object: Record<string, unknown>,
    query: Record<string, string>,
  ) {
    const report = resource.check(object)
    if (query.fieldValidation === 'Strict' && report.unknown.length > 0) {
      throw new HttpStatus(
        400,
        'BadRequest',
        `strict decoding error: ${report.unknown.map((f) => `unknown field "${f}"`).join(', ')}`,
      )
    }
    if (report.invalid.length > 0) {
      const name = (object.metadata as { name?: string } | undefined)?.name ?? ''
      throw new HttpStatus(
        422,
        'Invalid',
        `${resource.kind}${resource.group ? `.${resource.group}` : ''} "${name}" is invalid: ${report.invalid.join(', ')}`,
        {
          name,
          group: resource.group || undefined,
          kind: resource.kind,
          causes: report.invalid.map((message) => ({
            reason: 'FieldValueInvalid',
            message,
            field: message.split(':')[0],
          })),
        },
      )
    }
  }

  private create(
    resource: Resource,
    namespace: string,
    body: unknown,
    query: Record<string, string>,
  ) {
    if (typeof body !== 'object' || body === null)
      throw new HttpStatus(400, 'BadRequest', 'empty body')
    const object = clone(body) as KubeObject
    const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version
    if (object.apiVersion !== apiVersion || object.kind !== resource.kind) {
      throw new HttpStatus(
        400,
        'BadRequest',
        `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersion})`,
      )
    }
    if (object.metadata?.namespace && object.metadata.namespace !== namespace) {
      throw new HttpStatus(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      )
    }
    if (!object.metadata?.name) {
      throw new HttpStatus(
        422,
        'Invalid',
        `${resource.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
      )
    }
    this.validate(resource, object, query)
    const name = object.metadata.name
    if (this.objects.has(key(resource.plural, namespace, name))) {
      throw new HttpStatus(409, 'AlreadyExists', `${resource.qualified} "${name}" already exists`, {
        name,
        group: resource.group || undefined,
        kind: resource.plural,
      })
    }
    const uid = randomUUID()
    object.metadata = {
      ...object.metadata,
      namespace,
      uid,
      resourceVersion: '',
      creationTimestamp: now(),
      ...(resource.plural === 'jobs' || resource.plural === 'xgboostjobs' ? { generation: 1 } : {}),
    }
    delete object.status
    if (resource.plural === 'jobs') defaultJob(object, uid)
    if (resource.plural === 'secrets') defaultSecret(object)
    return this.write(resource.plural, object)
  }

  private replace(
    resource: Resource,
    namespace: string,
    name: string,
    body: unknown,
    query: Record<string, string>,
  ) {
    const current = this.mustGet(resource, namespace, name)
    const object = clone(body) as KubeObject
    const wanted = object.metadata?.resourceVersion
    if (wanted && wanted !== current.metadata.resourceVersion) {
      throw new HttpStatus(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${resource.qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, kind: resource.plural },
      )
    }
    this.validate(resource, object, query)
    object.metadata = {
      ...object.metadata,
      namespace,
      name,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      resourceVersion: '',
    }
    if (resource.plural === 'secrets') defaultSecret(object)
    if (current.status !== undefined) object.status = current.status
    return this.write(resource.plural, object)
  }

  private patch(
    resource: Resource,
    namespace: string,
    name: string,
    body: unknown,
    contentType: string | undefined,
  ) {
    const current = this.mustGet(resource, namespace, name)
    let next: KubeObject
    const type = contentType?.split(';')[0]
    if (type === 'application/json-patch+json') next = jsonPatch(current, body)
    else if (type === 'application/merge-patch+json') next = mergePatch(current, body) as KubeObject
    else
      throw new HttpStatus(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      )
    this.validate(resource, next, {})
    next.metadata.uid = current.metadata.uid
    return this.write(resource.plural, next)
  }

  private deleteObject(
    resource: Resource,
    namespace: string,
    name: string,
    policy: string | undefined,
  ) {
    const object = this.mustGet(resource, namespace, name)
    // batch/v1 Jobs orphan their pods unless told otherwise (the API's legacy default).
    const propagation = policy ?? (resource.plural === 'jobs' ? 'Orphan' : 'Background')
    if (propagation === 'Foreground') {
      if (!object.metadata.deletionTimestamp) {
        object.metadata.deletionTimestamp = now()
        object.metadata.finalizers = [...(object.metadata.finalizers ?? []), 'foregroundDeletion']
        this.write(resource.plural, object)
        if (!this.holdForegroundDeletions) setImmediate(() => this.finishDeletions())
      }
      return this.mustGet(resource, namespace, name)
    }
    this.remove(object)
    if (propagation === 'Orphan') {
      for (const dependent of this.dependentsOf(object.metadata.uid)) {
        dependent.metadata.ownerReferences = dependent.metadata.ownerReferences!.filter(
          (r) => r.uid !== object.metadata.uid,
        )
        this.write(this.pluralOf(dependent), dependent)
      }
    } else {
      for (const dependent of this.dependentsOf(object.metadata.uid)) this.collect(dependent)
    }
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name,
        group: resource.group || undefined,
        kind: resource.plural,
        uid: object.metadata.uid,
      },
    }
  }

  /** The garbage collector: dependents first, then the object. */
  private collect(object: KubeObject): void {
    for (const dependent of this.dependentsOf(object.metadata.uid)) this.collect(dependent)
    if (
      this.objects.has(key(this.pluralOf(object), object.metadata.namespace, object.metadata.name))
    ) {
      this.remove(object)
    }
  }

  private dependentsOf(uid: string): KubeObject[] {
    return [...this.objects.values()]
      .filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === uid))
      .map(clone)
  }

  private remove(object: KubeObject): void {
    const plural = this.pluralOf(object)
    this.objects.delete(key(plural, object.metadata.namespace, object.metadata.name))
    const gone = clone(object)
    gone.metadata.resourceVersion = String(++this.revision)
    this.emit(plural, 'DELETED', gone)
  }

  private pluralOf(object: KubeObject): string {
    const resource = Object.values(RESOURCES).find((r) => r.kind === object.kind)
    if (!resource) throw new Error(`unknown kind ${String(object.kind)}`)
    return resource.plural
  }

  private emit(plural: string, type: WatchEvent['type'], object: KubeObject): void {
    const event: WatchEvent = { rv: this.revision, plural, type, object: clone(object) }
    this.history.push(event)
    for (const watcher of this.watchers) this.deliver(watcher, event)
  }

  private deliver(watcher: Watcher, event: WatchEvent): void {
    if (event.plural !== watcher.plural || event.object.metadata.namespace !== watcher.namespace)
      return
    if (!matches(watcher.selector, event.object.metadata.labels)) return
    if (watcher.fieldName !== undefined && event.object.metadata.name !== watcher.fieldName) return
    watcher.response.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`)
  }

  private watch(
    resource: Resource,
    namespace: string,
    query: Record<string, string>,
    res: ServerResponse,
  ) {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })
    res.flushHeaders()
    const from = Number(query.resourceVersion ?? 0)
    if (this.expireWatches > 0 || (from > 0 && from < this.compactedBefore)) {
      if (this.expireWatches > 0) this.expireWatches--
      const expired = statusBody(
        410,
        'Expired',
        `too old resource version: ${from} (${this.revision})`,
      )
      res.end(`${JSON.stringify({ type: 'ERROR', object: expired })}\n`)
      return
    }
    const watcher: Watcher = {
      plural: resource.plural,
      namespace,
      selector: parseSelector(query.labelSelector),
      fieldName: fieldSelectorName(query.fieldSelector),
      response: res,
    }
    if (from > 0) {
      for (const event of this.history) if (event.rv > from) this.deliver(watcher, event)
    } else {
      for (const object of this.listObjects(resource, namespace, query).items) {
        this.deliver(watcher, { rv: 0, plural: resource.plural, type: 'ADDED', object })
      }
    }
    this.watchers.add(watcher)
    res.on('close', () => this.watchers.delete(watcher))
  }

  /** Forgets the watch history up to now: older resourceVersions answer 410 Expired. */
  compact(): void {
    this.compactedBefore = this.revision + 1
  }

  private podLog(
    namespace: string,
    name: string,
    query: Record<string, string>,
    res: ServerResponse,
  ) {
    const pod = this.mustGet(RESOURCES.pods!, namespace, name)
    const containers = (pod.spec?.containers ?? []) as Array<{ name: string }>
    const container = query.container ?? (containers.length === 1 ? containers[0]!.name : undefined)
    if (!container) {
      throw new HttpStatus(
        400,
        'BadRequest',
        `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`,
      )
    }
    if (!containers.some((c) => c.name === container)) {
      throw new HttpStatus(400, 'BadRequest', `container ${container} is not valid for pod ${name}`)
    }
    const status = (pod.status?.containerStatuses ?? []).find(
      (c: { name: string }) => c.name === container,
    )
    const waiting = status?.state?.waiting ?? (status ? undefined : { reason: 'PodInitializing' })
    if (waiting) {
      throw new HttpStatus(
        400,
        'BadRequest',
        `container "${container}" in pod "${name}" is waiting to start: ${waiting.reason}`,
      )
    }
    let text = this.logs.get(`${namespace}/${name}/${container}`) ?? ''
    if (query.tailLines !== undefined) text = tail(text, Number(query.tailLines))
    if (query.limitBytes !== undefined) text = text.slice(0, Number(query.limitBytes))
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    res.end(text)
  }
}

function key(plural: string, namespace: string, name: string): string {
  return `${plural}/${namespace}/${name}`
}

function fieldSelectorName(selector: string | undefined): string | undefined {
  const m = /^metadata\.name=(.+)$/.exec(selector ?? '')
  return m ? m[1] : undefined
}

/** The last `lines` lines of a log, a final newline kept. */
function tail(text: string, lines: number): string {
  const parts = text.split('\n')
  const trailing = parts.at(-1) === '' ? parts.pop() : undefined
  return parts.slice(-lines).join('\n') + (trailing === '' && parts.length > 0 ? '\n' : '')
}

/** What the API server's defaulting adds to a Job. */
function defaultJob(job: KubeObject, uid: string): void {
  const spec = job.spec
  spec.parallelism ??= 1
  spec.completions ??= 1
  spec.backoffLimit ??= 6
  spec.completionMode ??= 'NonIndexed'
  spec.suspend ??= false
  spec.podReplacementPolicy ??= 'TerminatingOrFailed'
  spec.manualSelector ??= false
  spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } }
  spec.template.metadata ??= {}
  spec.template.metadata.labels = {
    ...(spec.template.metadata.labels ?? {}),
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': job.metadata.name,
    'controller-uid': uid,
    'job-name': job.metadata.name,
  }
  const pod = spec.template.spec
  pod.dnsPolicy ??= 'ClusterFirst'
  pod.schedulerName ??= 'default-scheduler'
  pod.terminationGracePeriodSeconds ??= 30
  for (const container of pod.containers ?? []) {
    container.terminationMessagePath ??= '/dev/termination-log'
    container.terminationMessagePolicy ??= 'File'
    container.imagePullPolicy ??=
      container.image?.endsWith(':latest') || !container.image?.includes(':')
        ? 'Always'
        : 'IfNotPresent'
  }
}

function defaultSecret(secret: KubeObject): void {
  secret.type ??= 'Opaque'
  if (secret.stringData) {
    secret.data = { ...(secret.data ?? {}) }
    for (const [k, v] of Object.entries(secret.stringData as Record<string, string>)) {
      secret.data[k] = Buffer.from(v, 'utf8').toString('base64')
    }
    delete secret.stringData
  }
}

/** RFC 6902, the operations the runner and the tests use. */
function jsonPatch(document: KubeObject, operations: unknown): KubeObject {
  if (!Array.isArray(operations))
    throw new HttpStatus(
      400,
      'BadRequest',
      'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    )
  const result = clone(document)
  for (const op of operations as Array<{ op: string; path: string; value?: unknown }>) {
    const segments = op.path
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    const last = segments.pop()!
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let parent: any = result
    for (const segment of segments) {
      if (parent?.[segment] === undefined)
        throw new HttpStatus(
          422,
          'Invalid',
          `the server rejected our request due to an error in our request: missing path ${op.path}`,
        )
      parent = parent[segment]
    }
    if (op.op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value))
        throw new HttpStatus(422, 'Invalid', `testing value ${op.path} failed`)
    } else if (op.op === 'replace') {
      if (!(last in parent))
        throw new HttpStatus(
          422,
          'Invalid',
          `the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: ${op.path}`,
        )
      parent[last] = op.value
    } else if (op.op === 'add') parent[last] = op.value
    else if (op.op === 'remove') delete parent[last]
    else throw new HttpStatus(400, 'BadRequest', `unexpected kind: ${op.op}`)
  }
  return result
}

/** RFC 7386. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k]
    else result[k] = mergePatch(result[k], v)
  }
  return result
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  })
  res.end(text)
}
