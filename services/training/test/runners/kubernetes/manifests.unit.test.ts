import { ValidationError } from '@argmax/errors'
import { ConfigError } from '@argmax/config'
import type { V1Container, V1Job } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import {
  attemptManifests,
  attemptName,
  loadKubernetesRunnerSettings,
  type AttemptWorkload,
  type KubernetesAttemptSpec,
  type XGBoostJob,
} from '../../../src/runners/kubernetes/index.ts'
import { labelValue } from '../../../src/runners/kubernetes/attempt-identity.ts'
import { cpuQuantity } from '../../../src/runners/kubernetes/attempt.manifest.ts'
import { checkJob, checkSecret, checkXGBoostJob } from './support/kube-schema.ts'
import {
  DATASET_URL,
  NAMESPACE,
  RUN_TOKEN,
  TRAINER_IMAGE,
  attemptSpec,
  testSettings,
} from './support/fixtures.ts'

function jobOf(workload: AttemptWorkload): V1Job {
  if (workload.kind !== 'Job') throw new Error(`expected a Job, got ${workload.kind}`)
  return workload.job
}
const containerOf = (job: V1Job): V1Container => job.spec!.template.spec!.containers[0]!
const envOf = (container: V1Container) =>
  Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]))

function expectValid(report: { unknown: string[]; invalid: string[] }) {
  expect(report).toEqual({ unknown: [], invalid: [] })
}

describe('the Job of a one-worker attempt', () => {
  const settings = testSettings()
  const workload = attemptManifests(attemptSpec({ attempt: 2 }), settings)
  const job = jobOf(workload)
  const container = containerOf(job)

  it('is a batch/v1 Job named after run and attempt, in the training namespace, with our labels', () => {
    expect(job.apiVersion).toBe('batch/v1')
    expect(job.kind).toBe('Job')
    expect(job.metadata).toMatchObject({
      name: 'argmax-01jc6q8z5r9v3n2k7t4w1x0y8m-2',
      namespace: NAMESPACE,
      labels: {
        'app.kubernetes.io/name': 'argmax-trainer',
        'app.kubernetes.io/component': 'training-attempt',
        'app.kubernetes.io/part-of': 'argmax',
        'app.kubernetes.io/managed-by': 'argmax-training',
        'argmax.dev/run-id': '01JC6Q8Z5R9V3N2K7T4W1X0Y8M',
        'argmax.dev/attempt': '2',
        'argmax.dev/owner': 'user-42',
      },
      annotations: {
        'argmax.dev/run-id': '01JC6Q8Z5R9V3N2K7T4W1X0Y8M',
        'argmax.dev/attempt': '2',
        'argmax.dev/owner': 'user-42',
        'argmax.dev/trainer': 'xgboost',
      },
    })
    // The pods carry the same labels (logs and list find them), plus their role.
    expect(job.spec!.template.metadata!.labels).toEqual({
      ...job.metadata!.labels,
      'argmax.dev/replica': 'trainer',
    })
  })

  it('never retries, stops at the deadline, is deleted a while after it ends, starts suspended', () => {
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 36 * 3600,
      ttlSecondsAfterFinished: 24 * 3600,
      suspend: true,
    })
    expect(job.spec!.template.spec!.restartPolicy).toBe('Never')
  })

  it('runs the built-in trainer from the trainer image', () => {
    expect(container.image).toBe(TRAINER_IMAGE)
    expect(container.command).toEqual([
      'python3',
      '/app/services/training/trainers/train.py',
      '--trainer',
      'xgboost',
    ])
    expect(container.terminationMessagePolicy).toBe('FallbackToLogsOnError')
  })

  it('requests what it limits (Guaranteed QoS), and no GPU for a CPU attempt', () => {
    expect(container.resources).toEqual({
      requests: { cpu: '4', memory: '16384Mi' },
      limits: { cpu: '4', memory: '16384Mi' },
    })
    expect(job.spec!.template.spec!.nodeSelector).toBeUndefined()
    expect(job.spec!.template.spec!.tolerations).toBeUndefined()
  })

  it('runs as non-root on a read-only root filesystem without an API token', () => {
    const pod = job.spec!.template.spec!
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    })
    expect(pod.automountServiceAccountToken).toBe(false)
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    })
    expect(container.volumeMounts).toEqual([{ name: 'scratch', mountPath: '/scratch' }])
    expect(pod.volumes).toEqual([{ name: 'scratch', emptyDir: { sizeLimit: '20480Mi' } }])
  })

  it('takes the run token and the presigned URL from the Secret, never as plain values', () => {
    const env = envOf(container)
    expect(env.ARGMAX_RUN_TOKEN).toEqual({
      secretKeyRef: { name: job.metadata!.name, key: 'ARGMAX_RUN_TOKEN' },
    })
    expect(env.ARGMAX_DATASET_URL).toEqual({
      secretKeyRef: { name: job.metadata!.name, key: 'ARGMAX_DATASET_URL' },
    })
    const text = JSON.stringify(job)
    expect(text).not.toContain(RUN_TOKEN)
    expect(text).not.toContain('X-Amz-Signature')
    const secret = workload.secret
    expect(secret.metadata).toMatchObject({ name: job.metadata!.name, namespace: NAMESPACE })
    expect(secret.metadata!.labels).toEqual(job.metadata!.labels)
    expect(
      Object.fromEntries(
        Object.entries(secret.data!).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      ),
    ).toEqual({ ARGMAX_RUN_TOKEN: RUN_TOKEN, ARGMAX_DATASET_URL: DATASET_URL })
  })

  it('passes the other contract variables as values, with the API as the pods reach it', () => {
    const env = envOf(container)
    expect(env).toMatchObject({
      ARGMAX_RUN_ID: '01JC6Q8Z5R9V3N2K7T4W1X0Y8M',
      ARGMAX_ATTEMPT: '2',
      ARGMAX_DATASET_FORMAT: 'csv',
      ARGMAX_PARAMS: '{"target":"IMDB Rating","seed":1}',
      ARGMAX_API_URL: 'http://training.argmax.svc.cluster.local',
      ARGMAX_HEARTBEAT_SECONDS: '30',
      ARGMAX_TRAINER_IMAGE: TRAINER_IMAGE,
      ARGMAX_WORK_DIR: '/scratch',
      TMPDIR: '/scratch',
      HOME: '/scratch',
      OMP_NUM_THREADS: '4',
    })
    // Sorted: the same attempt renders the same manifest.
    const names = container.env!.filter((e) => e.value !== undefined).map((e) => e.name)
    expect(names).toEqual([...names].sort())
  })

  it('is what the API schema accepts (no unknown field, valid values)', () => {
    expectValid(checkJob(job))
    expectValid(checkSecret(workload.secret))
  })

  it('renders the same objects for the same attempt', () => {
    expect(attemptManifests(attemptSpec({ attempt: 2 }), settings)).toEqual(workload)
  })
})

describe('placement on GPU pools', () => {
  const settings = testSettings()

  it('puts GPUs without a profile on the default pool: nvidia.com/gpu, its selector and tolerations', () => {
    const job = jobOf(
      attemptManifests(attemptSpec({ resources: { cpu: 8, memoryMb: 65_536, gpus: 2 } }), settings),
    )
    const pod = job.spec!.template.spec!
    expect(pod.containers[0]!.resources).toEqual({
      requests: { cpu: '8', memory: '65536Mi', 'nvidia.com/gpu': '2' },
      limits: { cpu: '8', memory: '65536Mi', 'nvidia.com/gpu': '2' },
    })
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' })
    expect(pod.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ])
    expectValid(checkJob(job))
  })

  it.each([['nvidia.com/mig-1g.10gb'], ['a100-mig']])(
    'asks for the MIG slice of the pool a gpuProfile %s names',
    (gpuProfile) => {
      const job = jobOf(
        attemptManifests(
          attemptSpec({ resources: { cpu: 2, memoryMb: 8192, gpus: 1, gpuProfile } }),
          settings,
        ),
      )
      const pod = job.spec!.template.spec!
      expect(pod.containers[0]!.resources!.limits).toEqual({
        cpu: '2',
        memory: '8192Mi',
        'nvidia.com/mig-1g.10gb': '1',
      })
      expect(pod.containers[0]!.resources!.limits).not.toHaveProperty(['nvidia.com/gpu'])
      expect(pod.nodeSelector).toEqual({ 'nvidia.com/mig.config': 'all-1g.10gb' })
      expectValid(checkJob(job))
    },
  )

  it('refuses what no pool offers, naming the field', () => {
    const refused = (resources: KubernetesAttemptSpec['resources'], s = settings) => {
      try {
        attemptManifests(attemptSpec({ resources }), s)
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError)
        return (error as ValidationError).issues
      }
      throw new Error('not refused')
    }
    expect(
      refused({ cpu: 1, memoryMb: 1024, gpus: 1, gpuProfile: 'nvidia.com/mig-7g.80gb' }),
    ).toEqual([
      {
        field: 'resources.gpuProfile',
        message:
          'no GPU pool is or offers "nvidia.com/mig-7g.80gb"; the pools are a100 (nvidia.com/gpu), a100-mig (nvidia.com/mig-1g.10gb)',
      },
    ])
    expect(refused({ cpu: 1, memoryMb: 1024, gpus: 0, gpuProfile: 'a100' })[0]!.field).toBe(
      'resources.gpus',
    )
    const noPools = testSettings({ ARGMAX_TRAINING_GPU_POOLS: '{}' })
    expect(refused({ cpu: 1, memoryMb: 1024, gpus: 1 }, noPools)).toEqual([
      {
        field: 'resources.gpus',
        message: 'this cluster has no GPU pool (ARGMAX_TRAINING_GPU_POOLS is empty)',
      },
    ])
  })

  it('writes fractional cores in millicores', () => {
    expect(cpuQuantity(1.5)).toBe('1500m')
    expect(cpuQuantity(0.25)).toBe('250m')
    expect(cpuQuantity(2)).toBe('2')
    const job = jobOf(
      attemptManifests(attemptSpec({ resources: { cpu: 0.5, memoryMb: 512, gpus: 0 } }), settings),
    )
    expect(containerOf(job).resources!.requests).toEqual({ cpu: '500m', memory: '512Mi' })
    expect(envOf(containerOf(job)).OMP_NUM_THREADS).toBe('1')
    expectValid(checkJob(job))
  })
})

describe('a custom trainer image', () => {
  it('runs its own command, may write its root filesystem, and records its image', () => {
    const job = jobOf(
      attemptManifests(
        attemptSpec({
          trainer: {
            kind: 'image',
            image: 'registry.example.test/team/trainer@sha256:' + 'b'.repeat(64),
            command: ['/usr/local/bin/train', '--fast'],
          },
        }),
        testSettings(),
      ),
    )
    const container = containerOf(job)
    expect(container.image).toBe('registry.example.test/team/trainer@sha256:' + 'b'.repeat(64))
    expect(container.command).toEqual(['/usr/local/bin/train', '--fast'])
    expect(container.securityContext!.readOnlyRootFilesystem).toBe(false)
    expect(envOf(container).ARGMAX_TRAINER_IMAGE).toBe(container.image)
    expect(job.metadata!.annotations!['argmax.dev/trainer']).toBe(container.image)
    expectValid(checkJob(job))
  })
})

describe('names and labels', () => {
  it('derive the Job name from run and attempt: stable, lower-case, a DNS label of ≤ 63', () => {
    const ids = [
      '01JC6Q8Z5R9V3N2K7T4W1X0Y8M',
      'run_with.dots_and_UNDERSCORES',
      'x'.repeat(200),
      '---',
      '0f8e2c1a-4b7d-4e3f-9a2b-6c5d4e3f2a1b',
    ]
    for (const id of ids) {
      for (const attempt of [1, 12, 100]) {
        const name = attemptName(id, attempt)
        expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
        expect(name.length).toBeLessThanOrEqual(63)
        expect(name.endsWith(`-${attempt}`)).toBe(true)
        expect(attemptName(id, attempt)).toBe(name)
      }
    }
    expect(attemptName('0f8e2c1a-4b7d-4e3f-9a2b-6c5d4e3f2a1b', 1)).toBe(
      'argmax-0f8e2c1a-4b7d-4e3f-9a2b-6c5d4e3f2a1b-1',
    )
    // Ids that lose characters on the way keep apart by a digest of the original.
    expect(attemptName('run_a', 1)).not.toBe(attemptName('run.a', 1))
    expect(attemptName('x'.repeat(200), 1)).not.toBe(attemptName('x'.repeat(201), 1))
    expect(() => attemptName('01J', 0)).toThrow(/attempt/)
  })

  it('keep valid ids as label values and digest the others (the exact id is an annotation)', () => {
    expect(labelValue('user-42')).toBe('user-42')
    expect(labelValue('alice@example.com')).toMatch(/^sha256-[0-9a-f]{32}$/)
    const job = jobOf(
      attemptManifests(attemptSpec({ ownerId: 'alice@example.com' }), testSettings()),
    )
    expect(job.metadata!.labels!['argmax.dev/owner']).toBe(labelValue('alice@example.com'))
    expect(job.metadata!.annotations!['argmax.dev/owner']).toBe('alice@example.com')
    expectValid(checkJob(job))
  })
})

describe('the XGBoostJob of a run of several workers', () => {
  const spec = attemptSpec({
    trainer: {
      kind: 'image',
      image: 'registry.example.test/team/xgb-dist:3',
      command: ['python3', '/app/dist_train.py'],
    },
    resources: { cpu: 8, memoryMb: 32_768, gpus: 1, workers: 3 },
  })
  const workload = attemptManifests(spec, testSettings())

  it('is a kubeflow.org/v1 XGBoostJob: one Master and workers − 1 Workers, never restarted', () => {
    expect(workload.kind).toBe('XGBoostJob')
    const job = (workload as { xgboostJob: XGBoostJob }).xgboostJob
    expect(job.apiVersion).toBe('kubeflow.org/v1')
    expect(job.metadata.name).toBe('argmax-01jc6q8z5r9v3n2k7t4w1x0y8m-1')
    expect(job.spec.runPolicy).toEqual({
      suspend: true,
      backoffLimit: 0,
      activeDeadlineSeconds: 36 * 3600,
      ttlSecondsAfterFinished: 24 * 3600,
      cleanPodPolicy: 'Running',
    })
    const master = job.spec.xgbReplicaSpecs.Master!
    const worker = job.spec.xgbReplicaSpecs.Worker!
    expect([master.replicas, worker.replicas]).toEqual([1, 2])
    expect([master.restartPolicy, worker.restartPolicy]).toEqual(['Never', 'Never'])
    for (const [replica, role] of [
      [master, 'master'],
      [worker, 'worker'],
    ] as const) {
      const container = replica.template.spec!.containers[0]!
      // The operator finds its container and port by these names.
      expect(container.name).toBe('xgboost')
      expect(container.ports).toEqual([
        { name: 'xgboostjob-port', containerPort: 9999, protocol: 'TCP' },
      ])
      expect(container.resources!.limits).toEqual({
        cpu: '8',
        memory: '32768Mi',
        'nvidia.com/gpu': '1',
      })
      expect(replica.template.metadata!.labels!['argmax.dev/replica']).toBe(role)
      expect(envOf(container).ARGMAX_RUN_TOKEN).toEqual({
        secretKeyRef: { name: job.metadata.name, key: 'ARGMAX_RUN_TOKEN' },
      })
    }
    expect(JSON.stringify(job)).not.toContain(RUN_TOKEN)
    expectValid(checkXGBoostJob(job as unknown as Record<string, unknown>))
  })

  it('is refused for the built-in trainers and where the operator is not installed', () => {
    expect(() =>
      attemptManifests(
        attemptSpec({ resources: { cpu: 1, memoryMb: 1024, gpus: 0, workers: 2 } }),
        testSettings(),
      ),
    ).toThrow(/resources\.workers: the built-in trainers train in one process/)
    expect(() =>
      attemptManifests(spec, testSettings({ ARGMAX_TRAINING_JOB_KUBEFLOW: 'false' })),
    ).toThrow(/resources\.workers: runs of several workers need the Kubeflow Training Operator/)
  })
})

describe('the schema check', () => {
  it('finds what the API server would refuse (it is not vacuous)', () => {
    const job = structuredClone(jobOf(attemptManifests(attemptSpec(), testSettings())))
    ;(job.spec as unknown as Record<string, unknown>).backofLimit = 1
    const container = job.spec!.template.spec!.containers[0]! as V1Container & { cpu?: string }
    container.cpu = '1'
    container.resources!.limits!['nvidia.com/gpu'] = '0.5'
    container.terminationMessagePolicy = 'Fallback'
    job.spec!.template.spec!.restartPolicy = 'Always'
    const report = checkJob(job)
    expect(report.unknown.sort()).toEqual([
      'spec.backofLimit',
      'spec.template.spec.containers[0].cpu',
    ])
    expect(report.invalid.join('\n')).toMatch(/terminationMessagePolicy: Unsupported value/)
    expect(report.invalid.join('\n')).toMatch(/restartPolicy: Required value/)
    expect(report.invalid.join('\n')).toMatch(
      /nvidia.com\/gpu\]: Invalid value: "0.5": must be an integer/,
    )
  })
})

describe('settings', () => {
  const base = { ARGMAX_TRAINING_TRAINER_IMAGE: TRAINER_IMAGE }

  it('default to one namespace, 16 slots, a day of TTL, no pools and no operator', () => {
    expect(loadKubernetesRunnerSettings(base)).toEqual({
      namespace: 'argmax-training-jobs',
      trainerImage: TRAINER_IMAGE,
      gpuPools: {},
      slots: 16,
      ttlSecondsAfterFinished: 86_400,
      apiUrl: undefined,
      serviceAccountName: undefined,
      scratchMb: 20_480,
      kubeflow: false,
    })
  })

  it('fill in a pool: nvidia.com/gpu, no selector, no toleration, not the default', () => {
    const settings = loadKubernetesRunnerSettings({
      ...base,
      ARGMAX_TRAINING_GPU_POOLS: '{"t4": {"gpus": 4}}',
    })
    expect(settings.gpuPools).toEqual({
      t4: {
        resourceName: 'nvidia.com/gpu',
        nodeSelector: {},
        tolerations: [],
        gpus: 4,
        default: false,
      },
    })
  })

  it('name every bad variable', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadKubernetesRunnerSettings(env)
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        return (error as ConfigError).issues.map(
          (i) => `${i.variable}: ${i.message.replace(/ \(got .*$/, '')}`,
        )
      }
      throw new Error('accepted')
    }
    expect(problems({})).toEqual(['ARGMAX_TRAINING_TRAINER_IMAGE: is required but not set'])
    expect(problems({ ...base, ARGMAX_TRAINING_GPU_POOLS: '{a100:' })[0]).toMatch(
      /^ARGMAX_TRAINING_GPU_POOLS: must be JSON/,
    )
    expect(
      problems({
        ...base,
        ARGMAX_TRAINING_GPU_POOLS: JSON.stringify({
          a100: { tolerations: [{ effect: 'Sometimes' }] },
          B: {},
          t4: { resourceName: 'gpu' },
          v100: { nodeSelector: {}, colour: 'green' },
        }),
        ARGMAX_TRAINING_JOB_NAMESPACE: 'Training Jobs',
        ARGMAX_TRAINING_JOB_KUBEFLOW: 'maybe',
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ARGMAX_TRAINING_JOB_NAMESPACE: must be a namespace name/),
        expect.stringMatching(/^ARGMAX_TRAINING_GPU_POOLS\.a100\.tolerations\.0\.effect: /),
        expect.stringMatching(
          /^ARGMAX_TRAINING_GPU_POOLS: pool names must be lower-case letters, digits and - \(not "B"\)/,
        ),
        expect.stringMatching(
          /^ARGMAX_TRAINING_GPU_POOLS\.t4\.resourceName: must be an extended resource name/,
        ),
        expect.stringMatching(/^ARGMAX_TRAINING_GPU_POOLS\.v100: .*colour/),
        expect.stringMatching(/^ARGMAX_TRAINING_JOB_KUBEFLOW: must be true or false/),
      ]),
    )
    expect(
      problems({
        ...base,
        ARGMAX_TRAINING_GPU_POOLS: JSON.stringify({ a: { default: true }, b: { default: true } }),
      }),
    ).toEqual(['ARGMAX_TRAINING_GPU_POOLS: at most one pool may be the default'])
  })
})
