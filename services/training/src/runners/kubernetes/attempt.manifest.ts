import { ValidationError } from '@argmax/errors'
import type {
  V1Container,
  V1EnvVar,
  V1Job,
  V1ObjectMeta,
  V1PodTemplateSpec,
  V1Secret,
} from '@kubernetes/client-node'
import type { AttemptResources, AttemptSpec } from '../runner.ts'
import {
  LABEL,
  attemptAnnotations,
  attemptLabels,
  attemptName,
  type AttemptKey,
} from './attempt-identity.ts'
import type { KubernetesRunnerSettings } from './kubernetes.settings.ts'
import { resolvePlacement, type Placement } from './placement.ts'

/**
 * An attempt as Kubernetes objects: a `batch/v1` Job (one worker) or a Kubeflow `XGBoostJob`
 * (several), plus the Secret that carries its credentials. Pure: the runner sends them.
 */

/**
 * `workers` is not (yet) in the Runner interface's AttemptResources: runs of more than one worker
 * are a kubernetes-only feature, so it rides on the spec as an optional field here.
 */
export interface KubernetesAttemptSpec extends AttemptSpec {
  resources: AttemptResources & { workers?: number }
}

/** The Training Operator's custom resource (kubeflow.org/v1), as much of it as we use. */
export interface XGBoostJob {
  apiVersion: 'kubeflow.org/v1'
  kind: 'XGBoostJob'
  metadata: V1ObjectMeta
  spec: {
    runPolicy: {
      cleanPodPolicy?: 'None' | 'Running' | 'All'
      backoffLimit?: number
      activeDeadlineSeconds?: number
      ttlSecondsAfterFinished?: number
      suspend?: boolean
    }
    xgbReplicaSpecs: Partial<Record<'Master' | 'Worker', XGBoostReplicaSpec>>
  }
  status?: {
    conditions?: Array<{
      type: string
      status: string
      reason?: string
      message?: string
      lastTransitionTime?: string
    }>
    replicaStatuses?: Record<string, { active?: number; succeeded?: number; failed?: number }>
    startTime?: string
    completionTime?: string
  }
}

export interface XGBoostReplicaSpec {
  replicas: number
  restartPolicy: 'Never' | 'OnFailure' | 'Always' | 'ExitCode'
  template: V1PodTemplateSpec
}

export const XGBOOSTJOB = {
  group: 'kubeflow.org',
  version: 'v1',
  plural: 'xgboostjobs',
  /** The operator finds its container and port by these names. */
  container: 'xgboost',
  portName: 'xgboostjob-port',
  port: 9999,
} as const

/** The container of a batch Job's pod. */
export const TRAINER_CONTAINER = 'trainer'

/** Where the built-in trainers live in their image (deploy/docker/trainer.Dockerfile). */
export const BUILTIN_TRAINER_SCRIPT = '/app/services/training/trainers/train.py'

const SCRATCH = '/scratch'
/** The trainer image's user (deploy/docker/trainer.Dockerfile). */
const TRAINER_UID = 10001

/**
 * Variables that go into the Secret, never into the pod spec: the run token and the presigned
 * dataset URL (a bearer capability for the file), and anything named like a credential.
 */
const SECRET_VARIABLES = new Set(['ARGMAX_RUN_TOKEN', 'ARGMAX_DATASET_URL'])
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|PRIVATE|CREDENTIAL|_KEY(_|$)/i
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export function isSecretVariable(name: string): boolean {
  return SECRET_VARIABLES.has(name) || SECRET_NAME.test(name)
}

export type AttemptWorkload =
  | { kind: 'Job'; name: string; job: V1Job; secret: V1Secret }
  | { kind: 'XGBoostJob'; name: string; xgboostJob: XGBoostJob; secret: V1Secret }

/**
 * The objects of one attempt. Both workloads are created suspended: the runner creates the
 * Secret (owned by the workload, so it is garbage-collected with it) and then resumes it, so no
 * pod ever starts without its credentials.
 */
export function attemptManifests(
  spec: KubernetesAttemptSpec,
  settings: KubernetesRunnerSettings,
): AttemptWorkload {
  const workers = spec.resources.workers ?? 1
  if (!Number.isInteger(workers) || workers < 1) {
    throw ValidationError.field('resources.workers', 'must be a whole number ≥ 1')
  }
  if (!Number.isInteger(spec.timeoutSeconds) || spec.timeoutSeconds < 1) {
    throw ValidationError.field('timeoutSeconds', 'must be a whole number of seconds ≥ 1')
  }
  if (workers > 1 && !settings.kubeflow) {
    throw ValidationError.field(
      'resources.workers',
      'runs of several workers need the Kubeflow Training Operator, which this cluster does not have (ARGMAX_TRAINING_JOB_KUBEFLOW)',
    )
  }
  if (workers > 1 && spec.trainer.kind === 'builtin') {
    throw ValidationError.field(
      'resources.workers',
      'the built-in trainers train in one process; several workers need a custom image that joins the XGBoost collective (the Training Operator gives each pod MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE)',
    )
  }
  const placement = resolvePlacement(spec.resources, settings.gpuPools)
  const name = attemptName(spec.runId, spec.attempt)
  const key: AttemptKey = { runId: spec.runId, attempt: spec.attempt, ownerId: spec.ownerId }
  const trainer = spec.trainer.kind === 'builtin' ? spec.trainer.name : spec.trainer.image
  const metadata = (): V1ObjectMeta => ({
    name,
    namespace: settings.namespace,
    labels: attemptLabels(key),
    annotations: attemptAnnotations(key, trainer),
  })
  const { plain, secret } = splitEnv(spec, settings)
  const secretManifest: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: settings.namespace, labels: attemptLabels(key) },
    type: 'Opaque',
    data: Object.fromEntries(
      Object.entries(secret).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]),
    ),
  }
  const pod = (container: string, replica: string, ports?: V1Container['ports']) =>
    podTemplate({ spec, settings, placement, key, name, plain, secret, container, replica, ports })

  if (workers === 1) {
    const job: V1Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: metadata(),
      spec: {
        suspend: true,
        // The platform retries (a new attempt, from the checkpoint); Kubernetes never does.
        backoffLimit: 0,
        activeDeadlineSeconds: spec.timeoutSeconds,
        ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
        template: pod(TRAINER_CONTAINER, 'trainer'),
      },
    }
    return { kind: 'Job', name, job, secret: secretManifest }
  }
  const port = [{ name: XGBOOSTJOB.portName, containerPort: XGBOOSTJOB.port, protocol: 'TCP' }]
  const xgboostJob: XGBoostJob = {
    apiVersion: 'kubeflow.org/v1',
    kind: 'XGBoostJob',
    metadata: metadata(),
    spec: {
      runPolicy: {
        suspend: true,
        backoffLimit: 0,
        activeDeadlineSeconds: spec.timeoutSeconds,
        ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
        // Finished: stop what still runs (workers of a failed master), keep ended pods' logs.
        cleanPodPolicy: 'Running',
      },
      xgbReplicaSpecs: {
        Master: {
          replicas: 1,
          restartPolicy: 'Never',
          template: pod(XGBOOSTJOB.container, 'master', port),
        },
        Worker: {
          replicas: workers - 1,
          restartPolicy: 'Never',
          template: pod(XGBOOSTJOB.container, 'worker', port),
        },
      },
    },
  }
  return { kind: 'XGBoostJob', name, xgboostJob, secret: secretManifest }
}

/** The contract variables the pod sees, split into plain values and Secret-held ones. */
function splitEnv(spec: KubernetesAttemptSpec, settings: KubernetesRunnerSettings) {
  const image = spec.trainer.kind === 'image' ? spec.trainer.image : settings.trainerImage
  const env: Record<string, string> = {
    ARGMAX_RUN_ID: spec.runId,
    ARGMAX_ATTEMPT: String(spec.attempt),
    ARGMAX_TRAINER_IMAGE: image,
    ARGMAX_WORK_DIR: SCRATCH,
    ...spec.env,
    // The root filesystem is read-only: temporary files and caches go to the scratch volume.
    TMPDIR: SCRATCH,
    HOME: SCRATCH,
  }
  // The service hands its own address; pods reach it by the cluster's name for it.
  if (settings.apiUrl !== undefined) env.ARGMAX_API_URL = settings.apiUrl
  // OpenMP (XGBoost, scikit-learn) would start a thread per core of the node, not of the limit.
  if (env.OMP_NUM_THREADS === undefined && spec.resources.cpu > 0) {
    env.OMP_NUM_THREADS = String(Math.max(1, Math.ceil(spec.resources.cpu)))
  }
  const plain: Record<string, string> = {}
  const secret: Record<string, string> = {}
  for (const [variable, value] of Object.entries(env)) {
    if (!ENV_NAME.test(variable)) {
      throw ValidationError.field(`env.${variable}`, 'is not a valid environment variable name')
    }
    if (isSecretVariable(variable)) secret[variable] = value
    else plain[variable] = value
  }
  return { plain, secret }
}

function podTemplate(input: {
  spec: KubernetesAttemptSpec
  settings: KubernetesRunnerSettings
  placement: Placement
  key: AttemptKey
  name: string
  plain: Record<string, string>
  secret: Record<string, string>
  container: string
  replica: string
  ports: V1Container['ports'] | undefined
}): V1PodTemplateSpec {
  const { spec, settings, placement, name } = input
  const builtin = spec.trainer.kind === 'builtin'
  const env: V1EnvVar[] = [
    ...Object.keys(input.plain)
      .sort()
      .map((variable) => ({ name: variable, value: input.plain[variable]! })),
    ...Object.keys(input.secret)
      .sort()
      .map((variable) => ({
        name: variable,
        valueFrom: { secretKeyRef: { name, key: variable } },
      })),
  ]
  const container: V1Container = {
    name: input.container,
    image: builtin ? settings.trainerImage : (spec.trainer as { image: string }).image,
    command:
      spec.trainer.kind === 'builtin'
        ? ['python3', BUILTIN_TRAINER_SCRIPT, '--trainer', spec.trainer.name]
        : [...spec.trainer.command],
    env,
    resources: resources(spec.resources, placement),
    // A failed trainer's last output lines become the container's termination message: the
    // failure reason (the contract's last stdout line is a JSON error) arrives with the status.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: {
      allowPrivilegeEscalation: false,
      // The built-in image writes only to the scratch volume; a custom image may expect more.
      readOnlyRootFilesystem: builtin,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: 'scratch', mountPath: SCRATCH }],
  }
  if (input.ports !== undefined) container.ports = input.ports
  const labels = { ...attemptLabels(input.key), [LABEL.replica]: input.replica }
  return {
    metadata: { labels },
    spec: {
      restartPolicy: 'Never',
      // A trainer talks to the training API with its run token, never to Kubernetes.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(settings.serviceAccountName ? { serviceAccountName: settings.serviceAccountName } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: TRAINER_UID,
        runAsGroup: TRAINER_UID,
        fsGroup: TRAINER_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      ...(Object.keys(placement.nodeSelector).length > 0
        ? { nodeSelector: placement.nodeSelector }
        : {}),
      ...(placement.tolerations.length > 0 ? { tolerations: placement.tolerations } : {}),
      containers: [container],
      volumes: [{ name: 'scratch', emptyDir: { sizeLimit: `${settings.scratchMb}Mi` } }],
    },
  }
}

/** Requests equal limits (Guaranteed QoS): a days-long attempt is the last to be evicted. */
function resources(wanted: AttemptResources, placement: Placement) {
  const amounts: Record<string, string> = {}
  if (!(wanted.cpu >= 0) || !Number.isFinite(wanted.cpu)) {
    throw ValidationError.field('resources.cpu', 'must be a number of cores ≥ 0')
  }
  if (!Number.isInteger(wanted.memoryMb) || wanted.memoryMb < 0) {
    throw ValidationError.field('resources.memoryMb', 'must be a whole number ≥ 0')
  }
  if (wanted.cpu > 0) amounts.cpu = cpuQuantity(wanted.cpu)
  if (wanted.memoryMb > 0) amounts.memory = `${wanted.memoryMb}Mi`
  if (placement.gpu) amounts[placement.gpu.resourceName] = String(placement.gpu.count)
  return { requests: { ...amounts }, limits: { ...amounts } }
}

/** Cores as a Kubernetes quantity: `2`, `500m`, `1500m`. */
export function cpuQuantity(cores: number): string {
  const millis = Math.max(1, Math.round(cores * 1000))
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`
}
