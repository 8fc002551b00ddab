import type { FeedbackClient } from '@argmax/feedback-service/client'
import { ApiError, type RegistryClient } from '@argmax/registry-service/client'
import type { CreatePipelineInput, TrainingClient } from '@argmax/training-service/client'
import type { DemoApis } from './apis.ts'
import type { BaseVersion } from './base-version.ts'
import type { DemoLoopOptions } from './loop.ts'
import { poll } from './poll.ts'
import { MODEL, TARGET, type ModelInput } from './world.ts'

const MONITOR_NAME = 'demo loop: live MAE above 1.2 × the test MAE'
const MONITOR_MIN_LABELS = 600

export function pipelineConfig(base: BaseVersion, options: DemoLoopOptions): CreatePipelineInput {
  return {
    model: MODEL,
    enabled: true,
    triggers: { retrainRequested: true, labelThreshold: null, schedule: null },
    data: { source: 'fresh_feedback', datasetVersionId: base.datasetVersionId },
    // v1's seed: the split is a function of (seed, row index) and the base rows come first, so
    // the candidate's holdout holds v1's own test rows and none it trained on (another seed
    // would score v1 on rows it learnt: a leak in its favour).
    training: { target: TARGET, trainer: 'xgboost', params: {}, seed: base.seed },
    evaluation: {
      metric: 'mae',
      direction: 'lower_is_better',
      margin: 0.02,
      guards: [{ metric: 'r2', direction: 'higher_is_better', tolerance: 0.02 }],
    },
    requireApproval: false,
    rollout: {
      steps: [10, 50, 100],
      criteria: {
        windowSeconds: options.windowSeconds,
        minRequests: options.minRequests,
        // The machine is shared and a version's first requests load it: latency is judged
        // loosely (p99 at most 2 × the stable's + 200 ms), quality strictly.
        maxP99Ratio: 2,
        p99SlackMs: 200,
        stepDeadlineSeconds: Math.max(240, options.windowSeconds * 8),
        quality: { metric: 'mae', minLabels: options.minLabels, maxDegradation: 0.1 },
      },
    },
  } satisfies CreatePipelineInput
}

export async function savePipeline(training: TrainingClient, config: CreatePipelineInput) {
  try {
    await training.getPipeline({ params: { model: MODEL } })
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      await training.createPipeline({ body: config })
      return
    }
    throw error
  }
  const { model: _model, ...rest } = config
  await training.updatePipeline({ params: { model: MODEL }, body: rest })
}

/**
 * The world starts from v1: a rollout or a pipeline run left over from an earlier demo ends,
 * and v1 serves alone (a second run of the demo starts where the first did).
 */
export async function resetWorld(apis: DemoApis, base: BaseVersion, log: (line: string) => void) {
  const reason = 'demo loop: the world starts again from v1'
  try {
    const details = await apis.training.getPipeline({ params: { model: MODEL } })
    if (details.pipeline.current?.status === 'running') {
      await apis.training.abortPipeline({ params: { model: MODEL }, body: { reason } })
      log(`aborted pipeline run ${details.pipeline.current.pipelineRunId} left running`)
    }
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error
  }
  const active = await apis.registry.listRollouts({ query: { model: MODEL, state: 'active' } })
  for (const rollout of active.items) {
    await apis.registry.abortRollout({ params: { id: rollout.rolloutId }, body: { reason } })
    await poll(`rollout ${rollout.rolloutId} to end`, 120, async () => {
      const r = await apis.registry.getRollout({ params: { id: rollout.rolloutId } })
      return r.rollout.status === 'aborted' || r.rollout.status === 'rolled_back' ? r : undefined
    })
    log(`aborted rollout ${rollout.rolloutId} left running`)
  }
  const release = await currentRelease(apis.registry)
  if (release?.stable !== base.version || release.canary || release.shadow) {
    await apis.registry.setRelease({
      params: { name: MODEL },
      body: { stable: base.version, reason, breaking: true },
    })
    log(`released v1 (version ${base.version}) alone`)
  }
}

async function currentRelease(registry: RegistryClient) {
  try {
    return (await registry.getRelease({ params: { name: MODEL } })).release
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null
    throw error
  }
}

export async function stableVersion(registry: RegistryClient): Promise<number | null> {
  return (await currentRelease(registry))?.stable ?? null
}

/**
 * The MAE monitor of the loop: a fresh one each run (so it starts OK), its threshold 1.2 × the
 * serving version's own test MAE over the last 5 minutes. The default monitors of the model
 * keep notifying but request no retrains, so this one monitor drives the loop.
 */
export async function setUpMonitor(
  feedback: FeedbackClient,
  options: DemoLoopOptions,
  log: (line: string) => void,
): Promise<string> {
  // The model's default monitors are made on its first release: on a fresh stack, wait for
  // them, or one would come later and request retrains of its own.
  const monitors = await poll('the default monitors of the model', 60, async () => {
    const listed = await feedback.listMonitors({ query: { model: MODEL } })
    return listed.items.some((m) => m.isDefault) ? listed : undefined
  })
  for (const m of monitors.items) {
    if (m.name === MONITOR_NAME) await feedback.deleteMonitor({ params: { id: m.id } })
    else if (m.retrain) {
      await feedback.updateMonitor({ params: { id: m.id }, body: { retrain: false } })
      log(`monitor "${m.name}" keeps notifying but requests no retrains during the demo`)
    }
  }
  const created = await feedback.createMonitor({
    body: {
      model: MODEL,
      name: MONITOR_NAME,
      rule: {
        metric: 'mae',
        comparison: '>',
        relativeToTest: 1.2,
        window: '5m',
        forSeconds: options.monitorForSeconds,
        // Enough fresh labels for the retrain to learn the shift from.
        minLabels: MONITOR_MIN_LABELS,
      },
      retrain: true,
    },
  })
  const id = created.item.id
  log(
    `monitor ${id}: MAE over the last 5 minutes above 1.2 × the serving version's test MAE for ${options.monitorForSeconds} s → RetrainRequested`,
  )
  return id
}

/**
 * Round two's retrain is the nightly one (an admin's trigger). The buggy batch makes v2's live
 * MAE look bad, so the loop's monitor would request a retrain of its own in the middle of it
 * (its run then finds round two's rollout in progress): from here on it only notifies.
 */
export async function monitorNotifiesOnly(
  feedback: FeedbackClient,
  monitorId: string,
  log: (line: string) => void,
): Promise<void> {
  await feedback.updateMonitor({ params: { id: monitorId }, body: { retrain: false } })
  log(`monitor ${monitorId} keeps notifying but requests no more retrains`)
}

/** The serving version's inputs, once the gateway serves it. */
export async function servingInputs(
  edge: { edgeUrl: string; token: string },
  registry: RegistryClient,
  version: number,
): Promise<ModelInput[]> {
  return poll(`the gateway to serve version ${version}`, 180, async () => {
    const answer = await fetch(`${edge.edgeUrl}/v2/models/${MODEL}/versions/${version}`, {
      headers: { authorization: `Bearer ${edge.token}` },
    })
    const ready = await fetch(`${edge.edgeUrl}/v2/models/${MODEL}/ready`, {
      headers: { authorization: `Bearer ${edge.token}` },
    })
    if (!answer.ok || !ready.ok) return undefined
    const release = await currentRelease(registry)
    if (release?.stable !== version) return undefined
    return ((await answer.json()) as { inputs: ModelInput[] }).inputs
  })
}
