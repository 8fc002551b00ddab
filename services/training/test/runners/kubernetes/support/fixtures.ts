import {
  loadKubernetesRunnerSettings,
  type KubernetesAttemptSpec,
  type KubernetesRunnerSettings,
} from '../../../../src/runners/kubernetes/index.ts'

export const NAMESPACE = 'argmax-training-jobs'
export const TRAINER_IMAGE = 'ghcr.io/argmax-dev/argmax-trainer:0.1.0'
export const RUN_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.run-scoped-token.signature'
export const DATASET_URL =
  'https://s3.example.test/argmax-datasets/datasets/d1/versions/v1/data.csv?X-Amz-Signature=0a1b2c'

export const GPU_POOLS = {
  a100: {
    nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' },
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    gpus: 8,
    default: true,
  },
  'a100-mig': {
    resourceName: 'nvidia.com/mig-1g.10gb',
    nodeSelector: { 'nvidia.com/mig.config': 'all-1g.10gb' },
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    gpus: 28,
  },
}

/** The runner's settings as the gpu overlay gives them, through the real parser. */
export function testSettings(overrides: Record<string, string> = {}): KubernetesRunnerSettings {
  return loadKubernetesRunnerSettings({
    ARGMAX_TRAINING_TRAINER_IMAGE: TRAINER_IMAGE,
    ARGMAX_TRAINING_JOB_NAMESPACE: NAMESPACE,
    ARGMAX_TRAINING_GPU_POOLS: JSON.stringify(GPU_POOLS),
    ARGMAX_TRAINING_JOB_API_URL: 'http://training.argmax.svc.cluster.local',
    ARGMAX_TRAINING_JOB_KUBEFLOW: 'true',
    ...overrides,
  })
}

/** An attempt as the training service hands it over: the contract's variables, secrets included. */
export function attemptSpec(
  overrides: Partial<KubernetesAttemptSpec> & { runId?: string; attempt?: number } = {},
): KubernetesAttemptSpec {
  const runId = overrides.runId ?? '01JC6Q8Z5R9V3N2K7T4W1X0Y8M'
  const attempt = overrides.attempt ?? 1
  return {
    runId,
    attempt,
    ownerId: 'user-42',
    trainer: { kind: 'builtin', name: 'xgboost' },
    env: {
      ARGMAX_RUN_ID: runId,
      ARGMAX_ATTEMPT: String(attempt),
      ARGMAX_DATASET_URL: DATASET_URL,
      ARGMAX_DATASET_FORMAT: 'csv',
      ARGMAX_DATASET_SHA256: 'a'.repeat(64),
      ARGMAX_PARAMS: JSON.stringify({ target: 'IMDB Rating', seed: 1 }),
      ARGMAX_API_URL: 'http://127.0.0.1:8080',
      ARGMAX_RUN_TOKEN: RUN_TOKEN,
      ARGMAX_HEARTBEAT_SECONDS: '30',
    },
    resources: { cpu: 4, memoryMb: 16_384, gpus: 0 },
    timeoutSeconds: 36 * 3600,
    ...overrides,
  }
}
