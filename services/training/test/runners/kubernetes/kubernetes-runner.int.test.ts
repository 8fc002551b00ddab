import { UnavailableError } from '@argmax/errors'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { JobRef, JobState } from '../../../src/runners/runner.ts'
import {
  KubernetesRunner,
  attemptName,
  type KubernetesAttemptSpec,
} from '../../../src/runners/kubernetes/index.ts'
import { FakeKubeApi } from './support/fake-kube-api.ts'
import { NAMESPACE as NS, RUN_TOKEN, attemptSpec, testSettings } from './support/fixtures.ts'

const RUN_A = '01JC6Q8Z5R9V3N2K7T4W1X0Y8M'
const RUN_B = '01JC6QA0000000000000000000'
const RUN_C = '01JC6QB1111111111111111111'
const nameOf = (spec: KubernetesAttemptSpec) => attemptName(spec.runId, spec.attempt)
const WAIT = { timeout: 10_000, interval: 10 }

let api: FakeKubeApi
let runner: KubernetesRunner
let warnings: Array<{ fields: Record<string, unknown>; message: string }>

function newRunner(options: { cancelTimeoutMs?: number; settings?: Record<string, string> } = {}) {
  return new KubernetesRunner({
    kubeConfig: api.kubeConfig(),
    settings: testSettings(options.settings),
    log: { warn: (fields, message) => warnings.push({ fields, message }) },
    watchRetryMs: 20,
    cancelPollMs: 10,
    cancelTimeoutMs: options.cancelTimeoutMs ?? 10_000,
  })
}

beforeEach(async () => {
  api = await FakeKubeApi.start()
  warnings = []
  runner = newRunner()
})

afterEach(async () => {
  await api.close()
})

describe('start', () => {
  it('creates the Job suspended, then its Secret owned by the Job, then resumes it', async () => {
    const spec = attemptSpec()
    const name = nameOf(spec)
    const ref = await runner.start(spec)
    expect(ref).toEqual({ runner: 'kubernetes', id: `job/${name}`, runId: RUN_A, attempt: 1 })

    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /apis/batch/v1/namespaces/${NS}/jobs`,
      `POST /api/v1/namespaces/${NS}/secrets`,
      `PATCH /apis/batch/v1/namespaces/${NS}/jobs/${name}`,
    ])
    const [create, , resume] = api.requests
    expect(create!.query.fieldValidation).toBe('Strict')
    expect((create!.body as { spec: { suspend: boolean } }).spec.suspend).toBe(true)
    expect(resume!.contentType).toBe('application/json-patch+json')

    const job = api.get('jobs', NS, name)!
    expect(job.spec.suspend).toBe(false)
    expect(JSON.stringify(job)).not.toContain(RUN_TOKEN)
    const secret = api.get('secrets', NS, name)!
    expect(secret.metadata.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid, controller: true },
    ])
    expect(Buffer.from(secret.data.ARGMAX_RUN_TOKEN, 'base64').toString()).toBe(RUN_TOKEN)

    // The Secret lives as long as the Job: the TTL controller's deletion takes it along.
    api.jobController.expireTtl(NS, name)
    expect(api.get('secrets', NS, name)).toBeUndefined()
  })

  it('is idempotent: a second start finds the first Job (409 AlreadyExists) and creates nothing', async () => {
    const spec = attemptSpec()
    const first = await runner.start(spec)
    const second = await runner.start(spec)
    expect(second).toEqual(first)
    expect(api.list('jobs', NS)).toHaveLength(1)
    expect(api.list('secrets', NS)).toHaveLength(1)
    expect(api.requestsTo('POST', /\/jobs$/)).toHaveLength(2)
    expect(api.requestsTo('POST', /\/secrets$/)).toHaveLength(1)
    expect(api.requestsTo('PATCH', /\/jobs\//)).toHaveLength(1)
  })

  it('is idempotent under concurrent starts of the same attempt', async () => {
    const spec = attemptSpec({ runId: RUN_B, attempt: 3 })
    const refs = await Promise.all([runner.start(spec), runner.start(spec), runner.start(spec)])
    expect(new Set(refs.map((r) => r.id)).size).toBe(1)
    expect(api.list('jobs', NS)).toHaveLength(1)
    expect(api.list('secrets', NS)).toHaveLength(1)
    expect(api.get('jobs', NS, nameOf(spec))!.spec.suspend).toBe(false)
  })

  it('finishes what an interrupted start left: a suspended Job gets its Secret and runs', async () => {
    const spec = attemptSpec()
    const name = nameOf(spec)
    api.failNext('POST', /\/secrets$/, 503)
    const failure = await runner.start(spec).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(UnavailableError)
    expect(failure).toMatchObject({ details: { dependency: 'kubernetes' } })
    expect(api.get('jobs', NS, name)!.spec.suspend).toBe(true)
    expect(
      await runner.state({ runner: 'kubernetes', id: `job/${name}`, runId: RUN_A, attempt: 1 }),
    ).toEqual({
      state: 'pending',
    })

    await runner.start(spec)
    expect(api.get('jobs', NS, name)!.spec.suspend).toBe(false)
    expect(api.get('secrets', NS, name)!.metadata.ownerReferences).toHaveLength(1)
  })

  it('replaces a Secret an interrupted start had already created', async () => {
    const spec = attemptSpec()
    const name = nameOf(spec)
    api.failNext('PATCH', /\/jobs\//, 503)
    await expect(runner.start(spec)).rejects.toBeInstanceOf(UnavailableError)
    const renewed = { ...spec, env: { ...spec.env, ARGMAX_RUN_TOKEN: 'a-newer-token' } }
    await runner.start(renewed)
    const secret = api.get('secrets', NS, name)!
    expect(Buffer.from(secret.data.ARGMAX_RUN_TOKEN, 'base64').toString()).toBe('a-newer-token')
    expect(api.requestsTo('PUT', /\/secrets\//)).toHaveLength(1)
    expect(api.get('jobs', NS, name)!.spec.suspend).toBe(false)
  })

  it('refuses a Job of the same name that belongs to another attempt', async () => {
    await runner.start(attemptSpec({ runId: RUN_A }))
    // Job names are lower case: ids differing in case alone meet on one name.
    await expect(runner.start(attemptSpec({ runId: RUN_A.toLowerCase() }))).rejects.toThrow(
      `Job ${attemptName(RUN_A, 1)} belongs to run ${RUN_A} attempt 1, not run ${RUN_A.toLowerCase()} attempt 1`,
    )
  })

  it('says what RBAC refused, as a misconfiguration rather than an outage', async () => {
    const message = `jobs.batch is forbidden: User "system:serviceaccount:argmax:training" cannot create resource "jobs" in API group "batch" in the namespace "${NS}"`
    api.failNext('POST', /\/jobs$/, 403, { reason: 'Forbidden', message })
    const failure = await runner.start(attemptSpec()).catch((error: unknown) => error)
    expect(failure).not.toBeInstanceOf(UnavailableError)
    expect((failure as Error).message).toBe(
      `kubernetes refused to create Job ${attemptName(RUN_A, 1)}: ${message} (Forbidden)`,
    )
  })

  it('answers UnavailableError when the API server cannot be reached or is overloaded', async () => {
    api.failNext('GET', /\/jobs$/, 429)
    await expect(runner.list()).rejects.toMatchObject({
      name: 'UnavailableError',
      details: { dependency: 'kubernetes' },
    })
    const down = await FakeKubeApi.start()
    const kubeConfig = down.kubeConfig()
    await down.close()
    const unreachable = new KubernetesRunner({ kubeConfig, settings: testSettings() })
    await expect(unreachable.start(attemptSpec())).rejects.toMatchObject({
      name: 'UnavailableError',
      message: `kubernetes is unavailable (create Job ${attemptName(RUN_A, 1)}: no answer); retry later`,
    })
  })
})

describe('state', () => {
  const exitLog = (kind: string, message: string) =>
    `round 1\nround 2\n${JSON.stringify({ event: 'error', kind, message })}\n`
  const scenarios: Array<[string, (name: string) => void, JobState]> = [
    ['created, no pod yet', () => undefined, { state: 'pending' }],
    [
      'its pod unschedulable (no free GPU)',
      (name) =>
        api.jobController.createPod(NS, name, {
          unschedulable: '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.',
        }),
      { state: 'pending' },
    ],
    [
      'its container being created',
      (name) => api.jobController.createPod(NS, name),
      { state: 'pending' },
    ],
    [
      'running',
      (name) => {
        api.jobController.createPod(NS, name)
        api.jobController.runPod(NS, name)
      },
      { state: 'running' },
    ],
    [
      'exited 0',
      (name) => {
        api.jobController.createPod(NS, name)
        api.jobController.runPod(NS, name)
        api.jobController.exitPod(NS, name, 0)
      },
      { state: 'succeeded' },
    ],
    [
      'exited 2 with the contract’s error line',
      (name) => {
        api.jobController.createPod(NS, name)
        api.jobController.runPod(NS, name)
        api.jobController.exitPod(NS, name, 2, {
          log: exitLog('user_error', "column 'IMDB Rating' is not in the dataset"),
        })
      },
      {
        state: 'failed',
        reason: 'user_error',
        exitCode: 2,
        message: "column 'IMDB Rating' is not in the dataset",
      },
    ],
    [
      'exited 1',
      (name) => {
        api.jobController.createPod(NS, name)
        api.jobController.runPod(NS, name)
        api.jobController.exitPod(NS, name, 1, { log: exitLog('crash', 'RuntimeError: boom') })
      },
      { state: 'failed', reason: 'crashed', exitCode: 1, message: 'RuntimeError: boom' },
    ],
    [
      'killed by a signal without a word',
      (name) => {
        api.jobController.createPod(NS, name)
        api.jobController.runPod(NS, name)
        api.jobController.exitPod(NS, name, 139)
      },
      {
        state: 'failed',
        reason: 'crashed',
        exitCode: 139,
        message: 'the trainer exited with code 139 (Error)',
      },
    ],
    [
      'killed for memory',
      (name) => {
        api.jobController.createPod(NS, name)
        api.jobController.runPod(NS, name)
        api.jobController.exitPod(NS, name, 137, { reason: 'OOMKilled' })
      },
      {
        state: 'failed',
        reason: 'crashed',
        exitCode: 137,
        message: 'the trainer ran out of memory (limit 16384Mi) and was killed',
      },
    ],
    [
      'evicted',
      (name) => {
        api.jobController.createPod(NS, name)
        api.jobController.runPod(NS, name)
        api.jobController.evictPod(NS, name)
      },
      {
        state: 'failed',
        reason: 'crashed',
        message:
          'the pod was evicted: The node was low on resource: memory. Threshold quantity: 100Mi, available: 42Mi.',
      },
    ],
    [
      'past its deadline',
      (name) => {
        api.jobController.createPod(NS, name)
        api.jobController.runPod(NS, name)
        api.jobController.exceedDeadline(NS, name)
      },
      {
        state: 'failed',
        reason: 'timeout',
        message: 'the attempt ran longer than its limit of 129600 s',
      },
    ],
    [
      'deleted after its TTL',
      (name) => {
        api.jobController.createPod(NS, name)
        api.jobController.runPod(NS, name)
        api.jobController.exitPod(NS, name, 0)
        api.jobController.expireTtl(NS, name)
      },
      { state: 'missing' },
    ],
  ]

  it.each(scenarios)('of a Job %s', async (_, happen, expected) => {
    const spec = attemptSpec()
    const ref = await runner.start(spec)
    happen(nameOf(spec))
    expect(await runner.state(ref)).toEqual(expected)
  })

  it('of an attempt that was never started is missing', async () => {
    expect(
      await runner.state({
        runner: 'kubernetes',
        id: 'job/argmax-nothing-1',
        runId: 'nothing',
        attempt: 1,
      }),
    ).toEqual({ state: 'missing' })
  })
})

describe('watch', () => {
  it('reports each job once on subscribing, then its changes, re-listing when the watch drops', async () => {
    const a = await runner.start(attemptSpec({ runId: RUN_A }))
    const b = await runner.start(attemptSpec({ runId: RUN_B }))
    const c = await runner.start(attemptSpec({ runId: RUN_C }))
    const [nameA, nameB, nameC] = [a, b, c].map((ref) => ref.id.slice('job/'.length)) as [
      string,
      string,
      string,
    ]
    api.jobController.createPod(NS, nameA)
    api.jobController.runPod(NS, nameA)

    const seen: Array<[string, JobState]> = []
    const watch = runner.watch((job: JobRef, state: JobState) => seen.push([job.id, state]))
    await vi.waitFor(() => expect(seen).toHaveLength(3), WAIT)
    expect(seen).toEqual(
      expect.arrayContaining([
        [a.id, { state: 'running' }],
        [b.id, { state: 'pending' }],
        [c.id, { state: 'pending' }],
      ]),
    )
    // Jobs and XGBoostJobs (the operator is configured): one watch each.
    await vi.waitFor(() => expect(api.openWatches()).toBe(2), WAIT)

    // A change arrives through the watch.
    api.jobController.exitPod(NS, nameA, 0)
    await vi.waitFor(() => expect(seen.at(-1)).toEqual([a.id, { state: 'succeeded' }]), WAIT)

    // The connection drops; what happens before the runner is back is found by listing again.
    const listsBefore = api
      .requestsTo('GET', /\/jobs$/)
      .filter((r) => r.query.watch === undefined).length
    api.dropWatches()
    api.jobController.createPod(NS, nameB)
    api.jobController.runPod(NS, nameB)
    api.jobController.exitPod(NS, nameA, 0) // no change: not reported again
    api.jobController.expireTtl(NS, nameC)
    await vi.waitFor(() => {
      expect(seen).toContainEqual([b.id, { state: 'running' }])
      expect(seen).toContainEqual([c.id, { state: 'missing' }])
    }, WAIT)
    expect(
      api.requestsTo('GET', /\/jobs$/).filter((r) => r.query.watch === undefined).length,
    ).toBeGreaterThan(listsBefore)
    await vi.waitFor(() => expect(api.openWatches()).toBe(2), WAIT)

    // 410 Expired (etcd compacted the history): the runner lists again and carries on.
    api.expireNextWatches(1)
    api.endWatches()
    await vi.waitFor(
      () =>
        expect(warnings.some((w) => /watch error 410 Expired/.test(String(w.fields.err)))).toBe(
          true,
        ),
      WAIT,
    )
    await vi.waitFor(() => expect(api.openWatches()).toBe(2), WAIT)
    api.jobController.exitPod(NS, nameB, 2, {
      log: '{"event":"error","kind":"user_error","message":"bad target"}\n',
    })
    await vi.waitFor(
      () =>
        expect(seen.at(-1)).toEqual([
          b.id,
          { state: 'failed', reason: 'user_error', exitCode: 2, message: 'bad target' },
        ]),
      WAIT,
    )

    // A deletion seen live is `missing`.
    api.jobController.expireTtl(NS, nameA)
    await vi.waitFor(() => expect(seen.at(-1)).toEqual([a.id, { state: 'missing' }]), WAIT)

    // Every change once, nothing repeated by the re-lists.
    expect(seen.filter(([id]) => id === a.id)).toEqual([
      [a.id, { state: 'running' }],
      [a.id, { state: 'succeeded' }],
      [a.id, { state: 'missing' }],
    ])
    await watch.stop()
    await vi.waitFor(() => expect(api.openWatches()).toBe(0), WAIT)
  })

  it('keeps trying while the API server fails, and stops when told', async () => {
    const a = await runner.start(attemptSpec({ runId: RUN_A }))
    api.failNext('GET', /\/jobs$/, 503, { times: 3 })
    const seen: Array<[string, JobState]> = []
    const watch = runner.watch((job, state) => seen.push([job.id, state]))
    await vi.waitFor(() => expect(seen).toEqual([[a.id, { state: 'pending' }]]), WAIT)
    expect(
      warnings.filter((w) => w.message === 'the training jobs watch failed; listing again'),
    ).toHaveLength(3)
    await watch.stop()
    await vi.waitFor(() => expect(api.openWatches()).toBe(0), WAIT)
  })
})

describe('cancel', () => {
  it('deletes the Job in the foreground and resolves once it is gone, pods and Secret with it', async () => {
    api.holdForegroundDeletions = true
    const spec = attemptSpec()
    const name = nameOf(spec)
    const ref = await runner.start(spec)
    api.jobController.createPod(NS, name)
    api.jobController.runPod(NS, name)

    let cancelled = false
    const cancelling = runner.cancel(ref).then(() => {
      cancelled = true
    })
    const reads = () => api.requestsTo('GET', new RegExp(`/jobs/${name}$`)).length
    await vi.waitFor(() => expect(reads()).toBeGreaterThanOrEqual(3), WAIT)
    expect(cancelled).toBe(false)
    const [deletion] = api.requestsTo('DELETE', /\/jobs\//)
    expect(deletion!.query.propagationPolicy).toBe('Foreground')
    expect(api.get('jobs', NS, name)!.metadata.deletionTimestamp).toBeDefined()

    api.finishDeletions() // the garbage collector deletes the pods, then the Job
    await cancelling
    expect(api.get('jobs', NS, name)).toBeUndefined()
    expect(api.list('pods', NS)).toEqual([])
    expect(api.get('secrets', NS, name)).toBeUndefined()
    expect(await runner.state(ref)).toEqual({ state: 'missing' })
    await runner.cancel(ref) // nothing left: nothing to do
  })

  it('gives up waiting when the pods never go', async () => {
    api.holdForegroundDeletions = true
    const impatient = newRunner({ cancelTimeoutMs: 50 })
    const spec = attemptSpec()
    const ref = await impatient.start(spec)
    await expect(impatient.cancel(ref)).rejects.toThrow(
      `job ${nameOf(spec)} is still being deleted after 0 s (its pods are terminating)`,
    )
  })
})

describe('logTail', () => {
  it('reads the last lines of the trainer container, nothing before it runs', async () => {
    const spec = attemptSpec()
    const name = nameOf(spec)
    const ref = await runner.start(spec)
    expect(await runner.logTail(ref, 10)).toBe('')
    api.jobController.createPod(NS, name)
    expect(await runner.logTail(ref, 10)).toBe('') // 400: waiting to start
    const log = Array.from({ length: 500 }, (_, i) => `round ${i}`).join('\n') + '\n'
    api.jobController.runPod(NS, name, log)
    expect(await runner.logTail(ref, 3)).toBe('round 497\nround 498\nround 499\n')
    expect(api.requestsTo('GET', /\/log$/).at(-1)!.query).toMatchObject({
      container: 'trainer',
      tailLines: '3',
      limitBytes: String(1024 * 1024),
    })
  })
})

describe('list', () => {
  it('finds every attempt this runner started, with exact ids, and nothing else', async () => {
    await runner.start(attemptSpec({ runId: RUN_A, attempt: 1 }))
    await runner.start(attemptSpec({ runId: RUN_A, attempt: 2 }))
    await runner.start(attemptSpec({ runId: RUN_B, attempt: 1 }))
    api.write('jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'nightly-backup', namespace: NS, uid: 'u-1', resourceVersion: '' },
      spec: {
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'b', image: 'b' }] } },
      },
    })
    // A restarted service: a new runner, nothing in memory.
    const refs = await newRunner().list()
    expect(refs.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
      [
        { runner: 'kubernetes', id: `job/${attemptName(RUN_A, 1)}`, runId: RUN_A, attempt: 1 },
        { runner: 'kubernetes', id: `job/${attemptName(RUN_A, 2)}`, runId: RUN_A, attempt: 2 },
        { runner: 'kubernetes', id: `job/${attemptName(RUN_B, 1)}`, runId: RUN_B, attempt: 1 },
      ].sort((x, y) => x.id.localeCompare(y.id)),
    )
    expect(api.requestsTo('GET', /\/jobs$/).at(-1)!.query.labelSelector).toBe(
      'app.kubernetes.io/managed-by=argmax-training',
    )
  })

  it('reports the capacity of the configuration', () => {
    expect(runner.capacity()).toEqual({ slots: 16, gpus: 36 })
    expect(
      newRunner({
        settings: { ARGMAX_TRAINING_JOB_SLOTS: '4', ARGMAX_TRAINING_GPU_POOLS: '{}' },
      }).capacity(),
    ).toEqual({
      slots: 4,
      gpus: 0,
    })
  })
})

describe('runs of several workers (XGBoostJob)', () => {
  const distributed = (attempt: number) =>
    attemptSpec({
      attempt,
      trainer: {
        kind: 'image',
        image: 'registry.example.test/team/xgb-dist:3',
        command: ['python3', '/app/train.py'],
      },
      resources: { cpu: 4, memoryMb: 8192, gpus: 1, workers: 3 },
    })
  const XGB = `/apis/kubeflow.org/v1/namespaces/${NS}/xgboostjobs`

  it('creates, resumes, watches, reads and deletes the XGBoostJob through the custom-objects API', async () => {
    const seen: Array<[string, JobState]> = []
    const watch = runner.watch((job, state) => seen.push([job.id, state]))
    await vi.waitFor(() => expect(api.openWatches()).toBe(2), WAIT)

    const spec = distributed(1)
    const name = nameOf(spec)
    const ref = await runner.start(spec)
    expect(ref).toEqual({
      runner: 'kubernetes',
      id: `xgboostjob/${name}`,
      runId: RUN_A,
      attempt: 1,
    })
    expect(await runner.start(spec)).toEqual(ref)
    expect(api.requestsTo('POST', new RegExp(`^${XGB}$`))[0]!.query.fieldValidation).toBe('Strict')
    expect(api.list('xgboostjobs', NS)).toHaveLength(1)
    const job = api.get('xgboostjobs', NS, name)!
    expect(job.spec.runPolicy.suspend).toBe(false)
    expect(api.get('secrets', NS, name)!.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'kubeflow.org/v1',
        kind: 'XGBoostJob',
        name,
        uid: job.metadata.uid,
        controller: true,
      },
    ])
    expect(await runner.state(ref)).toEqual({ state: 'pending' })

    api.xgboostOperator.startPods(NS, name)
    expect(api.list('pods', NS)).toHaveLength(3)
    expect(await runner.state(ref)).toEqual({ state: 'running' })
    await vi.waitFor(() => expect(seen.at(-1)).toEqual([ref.id, { state: 'running' }]), WAIT)
    api.setLog(NS, `${name}-master-0`, 'xgboost', 'master says hello\n')
    api.setLog(NS, `${name}-worker-0`, 'xgboost', 'worker says hello\n')
    expect(await runner.logTail(ref, 5)).toBe('master says hello\n')

    api.xgboostOperator.finishMaster(
      NS,
      name,
      2,
      '{"event":"error","kind":"user_error","message":"bad parameter"}\n',
    )
    const failed = { state: 'failed', reason: 'user_error', exitCode: 2, message: 'bad parameter' }
    expect(await runner.state(ref)).toEqual(failed)
    await vi.waitFor(() => expect(seen.at(-1)).toEqual([ref.id, failed]), WAIT)
    expect(await runner.list()).toContainEqual(ref)

    await runner.cancel(ref)
    expect(api.requestsTo('DELETE', new RegExp(`^${XGB}/`))[0]!.query.propagationPolicy).toBe(
      'Foreground',
    )
    expect(api.list('xgboostjobs', NS)).toEqual([])
    expect(api.list('pods', NS)).toEqual([])
    expect(api.list('secrets', NS)).toEqual([])
    await vi.waitFor(() => expect(seen.at(-1)).toEqual([ref.id, { state: 'missing' }]), WAIT)
    await watch.stop()
  })

  it('maps the operator’s deadline and success', async () => {
    const late = await runner.start(distributed(1))
    api.xgboostOperator.startPods(NS, nameOf(distributed(1)))
    api.xgboostOperator.exceedDeadline(NS, nameOf(distributed(1)))
    expect(await runner.state(late)).toEqual({
      state: 'failed',
      reason: 'timeout',
      message: 'the attempt ran longer than its limit of 129600 s',
    })
    const fine = await runner.start(distributed(2))
    api.xgboostOperator.startPods(NS, nameOf(distributed(2)))
    api.xgboostOperator.finishMaster(NS, nameOf(distributed(2)), 0)
    expect(await runner.state(fine)).toEqual({ state: 'succeeded' })
  })

  it('says so when the cluster has no Training Operator', async () => {
    await api.close()
    api = await FakeKubeApi.start({ xgboostCrd: false })
    await expect(newRunner().start(distributed(1))).rejects.toThrow(
      `kubernetes refused to create XGBoostJob ${nameOf(distributed(1))}: the server could not find the requested resource (NotFound)`,
    )
  })
})
