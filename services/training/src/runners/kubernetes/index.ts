import { KubernetesRunner, type RunnerLog } from './kubernetes-runner.ts'
import { loadKubernetesRunnerSettings } from './kubernetes.settings.ts'

export {
  KubernetesRunner,
  type KubernetesRunnerOptions,
  type RunnerLog,
} from './kubernetes-runner.ts'
export {
  kubernetesRunnerSettings,
  loadKubernetesRunnerSettings,
  type GpuPool,
  type GpuPools,
  type KubernetesRunnerSettings,
} from './kubernetes.settings.ts'
export {
  attemptManifests,
  isSecretVariable,
  type AttemptWorkload,
  type KubernetesAttemptSpec,
  type XGBoostJob,
} from './attempt.manifest.ts'
export { resolvePlacement, type Placement } from './placement.ts'
export { attemptName, attemptLabels, MANAGED_SELECTOR } from './attempt-identity.ts'

/**
 * What `ARGMAX_TRAINING_RUNNER=kubernetes` loads (see ../select-runner.ts): the cluster from
 * `KubeConfig.loadFromDefault()` (in a pod its ServiceAccount, else KUBECONFIG), the settings
 * from the environment (`ARGMAX_TRAINING_TRAINER_IMAGE`, `_JOB_NAMESPACE`, `_GPU_POOLS` …, every
 * bad one named).
 */
export async function createKubernetesRunner(options: {
  env: Record<string, string | undefined>
  logger: RunnerLog
}): Promise<KubernetesRunner> {
  const { KubeConfig } = await import('@kubernetes/client-node')
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromDefault()
  return new KubernetesRunner({
    kubeConfig,
    settings: loadKubernetesRunnerSettings(options.env),
    log: options.logger,
  })
}
