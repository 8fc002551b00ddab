import { ValidationError } from '@argmax/errors'
import type { V1Toleration } from '@kubernetes/client-node'
import type { AttemptResources } from '../runner.ts'
import type { GpuPools } from './kubernetes.settings.ts'

/** Where an attempt's pods go and which GPU resource they ask for. */
export interface Placement {
  /** The GPU pool, when the attempt asks for GPUs. */
  pool?: string
  /** `nvidia.com/gpu` or a MIG slice, `count` of them per pod. */
  gpu?: { resourceName: string; count: number }
  nodeSelector: Record<string, string>
  tolerations: V1Toleration[]
}

/**
 * Picks the GPU pool of an attempt: `gpuProfile` names a pool or a resource some pool offers (a
 * MIG slice such as `nvidia.com/mig-1g.5gb`); GPUs without a profile go to the default pool.
 * A CPU-only attempt gets no selector. Throws a ValidationError naming the field otherwise —
 * the training API can call this at submission to refuse what no pool can run.
 */
export function resolvePlacement(resources: AttemptResources, pools: GpuPools): Placement {
  const { gpus, gpuProfile } = resources
  if (!Number.isInteger(gpus) || gpus < 0) {
    throw ValidationError.field('resources.gpus', 'must be a whole number ≥ 0')
  }
  if (gpus === 0 && gpuProfile === undefined) return { nodeSelector: {}, tolerations: [] }
  if (gpus === 0) {
    throw ValidationError.field(
      'resources.gpus',
      `must be at least 1 with gpuProfile ${gpuProfile}`,
    )
  }
  const names = Object.keys(pools)
  if (names.length === 0) {
    throw ValidationError.field(
      'resources.gpus',
      'this cluster has no GPU pool (ARGMAX_TRAINING_GPU_POOLS is empty)',
    )
  }
  let name: string | undefined
  if (gpuProfile === undefined) {
    name = names.find((n) => pools[n]!.default) ?? names[0]
  } else {
    name = pools[gpuProfile] ? gpuProfile : names.find((n) => pools[n]!.resourceName === gpuProfile)
    if (name === undefined) {
      const offered = names.map((n) => `${n} (${pools[n]!.resourceName})`).join(', ')
      throw ValidationError.field(
        'resources.gpuProfile',
        `no GPU pool is or offers "${gpuProfile}"; the pools are ${offered}`,
      )
    }
  }
  const pool = pools[name!]!
  return {
    pool: name!,
    gpu: { resourceName: pool.resourceName, count: gpus },
    nodeSelector: { ...pool.nodeSelector },
    tolerations: pool.tolerations.map((t) => ({ ...t })),
  }
}
