import type { ServiceCredential } from '@argmax/auth'
import { UnavailableError } from '@argmax/errors'
import { createRegistryClient, type RegistryClient } from '@argmax/registry-service/client'
import type { PipelineConfig } from '../domain/index.ts'

/**
 * What a retrain pipeline asks of the registry, which owns versions, aliases, releases and
 * rollouts: moving `challenger` to the candidate, and handing it over to a canary rollout.
 * (What it knows of the registry — which version a training run became, the serving version a
 * candidate is evaluated against — comes from the registry's events, projected in training's
 * schema: registry-versions.) Calls go through the registry's REST API with training's service
 * credential (`system:training`, admin), so the registry's own rules and events apply as for
 * any caller.
 */
export interface RegistryPort {
  /** Points `alias` at `version` (a repeat is harmless: the same alias, the same version). */
  setAlias(model: string, alias: string, version: number): Promise<void>
  /**
   * Starts the candidate's rollout under an Idempotency-Key derived from the pipeline run (a
   * retry after a crash gets the same rollout); with nothing serving, releases it as stable.
   * Returns the rollout's id, or null for a first release.
   */
  handOver(input: {
    model: string
    version: number
    pipelineRunId: string
    rollout: PipelineConfig['rollout']
    reason: string
  }): Promise<string | null>
}

type RolloutCriteria = Parameters<RegistryClient['startRollout']>[0]['body']['criteria']

export function createRegistryPort(options: {
  baseUrl: string | undefined
  credential: ServiceCredential
}): RegistryPort {
  const client = async () => {
    if (!options.baseUrl) {
      throw new UnavailableError(
        'the registry is not configured (ARGMAX_TRAINING_REGISTRY_URL): pipelines cannot register or hand over',
      )
    }
    return createRegistryClient({
      baseUrl: options.baseUrl,
      token: await options.credential.token(),
    })
  }
  return {
    async setAlias(model, alias, version) {
      const registry = await client()
      await registry.setAlias({ params: { name: model, alias }, body: { version } })
    },
    async handOver({ model, version, pipelineRunId, rollout, reason }) {
      const registry = await client()
      const release = await registry.getRelease({ params: { name: model } })
      if (release.release === null) {
        await registry.setRelease({ params: { name: model }, body: { stable: version, reason } })
        return null
      }
      const started = await registry.startRollout({
        idempotencyKey: `pipeline:${pipelineRunId}`,
        body: {
          model,
          candidate: String(version),
          ...(rollout.steps ? { steps: rollout.steps } : {}),
          // Checked against the registry's schema when the pipeline was saved (and again there).
          ...(rollout.criteria ? { criteria: rollout.criteria as RolloutCriteria } : {}),
          ...(rollout.requireApproval !== undefined
            ? { requireApproval: rollout.requireApproval }
            : {}),
          reason,
        },
      })
      return started.rollout.rolloutId
    },
  }
}
