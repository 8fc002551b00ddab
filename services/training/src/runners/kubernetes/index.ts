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
