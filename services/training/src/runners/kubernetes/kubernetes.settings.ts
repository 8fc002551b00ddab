import { z } from 'zod'
import { envBool, envConfig, envInt, envString, envUrl, loadConfig, type Env } from '@argmax/config'

/**
 * What the kubernetes runner reads from the environment. Parse it only when
 * `ARGMAX_TRAINING_RUNNER=kubernetes` (the trainer image is required there and meaningless for
 * the local runner): `loadKubernetesRunnerSettings(env)`, or compose `kubernetesRunnerSettings`
 * into the service's own `envConfig`.
 */

/** A Kubernetes name as the API accepts it for a namespace or a label value's DNS part. */
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** An extended resource name: `nvidia.com/gpu`, `nvidia.com/mig-1g.5gb`, `amd.com/gpu`. */
const extendedResource =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/

const toleration = z
  .object({
    key: z.string().optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int().optional(),
  })
  .strict()

/**
 * A set of GPU nodes. An attempt asking for GPUs lands on one pool: the one its `gpuProfile`
 * names (by pool name or by resource name, e.g. a MIG slice), else the default pool.
 */
const gpuPool = z
  .object({
    /** What a pod requests per GPU: `nvidia.com/gpu`, or a MIG slice such as `nvidia.com/mig-1g.5gb`. */
    resourceName: z
      .string()
      .regex(extendedResource, 'must be an extended resource name such as nvidia.com/gpu')
      .default('nvidia.com/gpu'),
    nodeSelector: z.record(z.string(), z.string()).default({}),
    tolerations: z.array(toleration).default([]),
    /** GPUs (or slices) the pool offers in all: what `capacity()` reports to the scheduler. */
    gpus: z.number().int().min(0).default(0),
    /** The pool of attempts that ask for GPUs without a profile (else the first pool). */
    default: z.boolean().default(false),
  })
  .strict()

export type GpuPool = z.output<typeof gpuPool>
export type GpuPools = Record<string, GpuPool>

const badPoolNames = (pools: Record<string, unknown>) =>
  Object.keys(pools).filter((name) => !dnsLabel.test(name))

// `when`: the names are checked even when a pool's own fields are bad, so all is said at once.
const gpuPools = z
  .record(z.string(), gpuPool)
  .refine((pools) => badPoolNames(pools).length === 0, {
    error: (issue) =>
      `pool names must be lower-case letters, digits and - (not ${badPoolNames(
        issue.input as Record<string, unknown>,
      )
        .map((name) => JSON.stringify(name))
        .join(', ')})`,
    when: () => true,
  })
  .refine((pools) => Object.values(pools).filter((pool) => pool.default).length <= 1, {
    message: 'at most one pool may be the default',
  })

/** A JSON document in one variable, its own issues reported under the variable's name. */
function envJson<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `must be JSON (${(error as Error).message})` })
        return z.NEVER
      }
    })
    .pipe(schema)
}

export const kubernetesRunnerSettings = z
  .object({
    /** Where attempts run: the namespace the training service's Role covers. */
    ARGMAX_TRAINING_JOB_NAMESPACE: envString()
      .regex(dnsLabel, 'must be a namespace name (lower-case letters, digits and -)')
      .max(63, 'must be at most 63 characters')
      .default('argmax-training-jobs'),
    /** The built-in trainers' image (deploy/docker/trainer.Dockerfile). */
    ARGMAX_TRAINING_TRAINER_IMAGE: envString(),
    ARGMAX_TRAINING_GPU_POOLS: envJson(gpuPools).default({}),
    /** Attempts that may run at once on the cluster (the scheduler's slots). */
    ARGMAX_TRAINING_JOB_SLOTS: envInt({ min: 1, max: 10_000 }).default(16),
    /**
     * How long a finished Job (with its pods and logs) stays before Kubernetes deletes it: long
     * enough for the service to read how it ended, even across its own restart.
     */
    ARGMAX_TRAINING_JOB_TTL_SECONDS: envInt({ min: 60, max: 30 * 24 * 3600 }).default(24 * 3600),
    /**
     * The training API as the trainer pods reach it (the Service's cluster DNS name); replaces
     * the `ARGMAX_API_URL` the service hands the runner, which is its own address.
     */
    ARGMAX_TRAINING_JOB_API_URL: envUrl(['http', 'https']).optional(),
    /** The trainer pods' ServiceAccount (they never get an API token mounted either way). */
    ARGMAX_TRAINING_JOB_SERVICE_ACCOUNT: envString().regex(dnsLabel, 'must be a name').optional(),
    /** Scratch space of an attempt (an emptyDir): the dataset is spooled there. */
    ARGMAX_TRAINING_JOB_SCRATCH_MB: envInt({ min: 64, max: 10_000_000 }).default(20_480),
    /** Whether the Kubeflow Training Operator is installed: runs of several workers need it. */
    ARGMAX_TRAINING_JOB_KUBEFLOW: envBool().default(false),
  })
  .transform((env) => ({
    namespace: env.ARGMAX_TRAINING_JOB_NAMESPACE,
    trainerImage: env.ARGMAX_TRAINING_TRAINER_IMAGE,
    gpuPools: env.ARGMAX_TRAINING_GPU_POOLS as GpuPools,
    slots: env.ARGMAX_TRAINING_JOB_SLOTS,
    ttlSecondsAfterFinished: env.ARGMAX_TRAINING_JOB_TTL_SECONDS,
    apiUrl: env.ARGMAX_TRAINING_JOB_API_URL,
    serviceAccountName: env.ARGMAX_TRAINING_JOB_SERVICE_ACCOUNT,
    scratchMb: env.ARGMAX_TRAINING_JOB_SCRATCH_MB,
    kubeflow: env.ARGMAX_TRAINING_JOB_KUBEFLOW,
  }))

export type KubernetesRunnerSettings = z.output<typeof kubernetesRunnerSettings>

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadKubernetesRunnerSettings(env: Env = process.env): KubernetesRunnerSettings {
  return loadConfig(envConfig({ kubernetes: kubernetesRunnerSettings }), env).kubernetes
}
