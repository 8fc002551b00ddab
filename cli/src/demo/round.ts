import type { FeedbackClient } from '@argmax/feedback-service/client'
import type { RolloutDetails } from '@argmax/registry-service/client'
import type { TrainingClient } from '@argmax/training-service/client'
import type { DemoApis } from './apis.ts'
import { poll } from './poll.ts'
import type { TrafficPump } from './traffic-pump.ts'
import { statsDifference, type TrafficStats } from './traffic.ts'
import { MODEL } from './world.ts'

export interface RoundResult {
  pipelineRunId: string
  trigger: string
  candidate: number | null
  rolloutId: string | null
  /** The pipeline run's end (completed, gate_failed …) and the rollout's (promoted, rolled_back). */
  pipelineStatus: string
  rolloutStatus: string | null
  /** When the candidate's canary took its first request, and when its rollout ended. */
  canaryFrom: string | null
  rolloutEndedAt: string | null
  traffic: TrafficStats
}

/** The model's current pipeline run: a round waits for the next one after it. */
export async function currentRunId(training: TrainingClient): Promise<string | null> {
  const details = await training.getPipeline({ params: { model: MODEL } })
  return details.pipeline.current?.pipelineRunId ?? null
}

/**
 * Follows one round: waits for a pipeline run after `before`, through its steps to its
 * rollout's end, printing each step as it is recorded. Fails with the numbers when the round
 * does not end as the demo expects (a gate failing in round one, a candidate promoted in two).
 */
export async function followRound(
  apis: DemoApis,
  round: {
    before: string | null
    deadline: number
    watch: () => Promise<void>
    traffic: TrafficPump
    log: (line: string) => void
    expect: 'promoted' | 'rolled_back'
  },
): Promise<RoundResult> {
  const statsBefore = round.traffic.snapshot()
  // Every wait of the round fails as soon as the traffic does, and prints the steps recorded.
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) =>
    poll(
      what,
      secondsLeft(round.deadline),
      async () => {
        round.traffic.check()
        await round.watch()
        return probe()
      },
      2000,
    )
  const details = await waitFor('a pipeline run', async () => {
    const d = await apis.training.getPipeline({ params: { model: MODEL } })
    const run = d.pipeline.current
    return run && run.pipelineRunId !== round.before ? d : undefined
  })
  const runId = details.pipeline.current!.pipelineRunId
  const ended = await waitFor(`pipeline run ${runId} to hand over`, async () => {
    const d = await apis.training.getPipeline({ params: { model: MODEL } })
    const run = d.pipeline.current
    if (!run || run.pipelineRunId !== runId) return undefined
    return run.status === 'running' ? undefined : d
  })
  const run = ended.pipeline.current!
  if (run.status !== 'completed' || !run.rolloutId) {
    throw new Error(
      `pipeline run ${runId} ended ${run.status}` +
        (run.gate ? `: ${run.gate.reasons.join('; ')}` : '') +
        (run.failure ? `: ${run.failure.reason} ${run.failure.message}` : ''),
    )
  }
  const rolloutId = run.rolloutId
  const rollout = await waitFor(`rollout ${rolloutId} to end`, async () => {
    const r = await apis.registry.getRollout({ params: { id: rolloutId } })
    return ['promoted', 'rolled_back', 'aborted'].includes(r.rollout.status) ? r : undefined
  })
  await round.watch()
  if (rollout.rollout.status !== round.expect) {
    throw new Error(
      `rollout ${rolloutId} ended ${rollout.rollout.status}, the demo expected ${round.expect}`,
    )
  }
  const statsAfter = round.traffic.snapshot()
  return {
    pipelineRunId: runId,
    trigger: `${run.trigger.kind} by ${run.trigger.by}: ${run.trigger.reason}`,
    candidate: run.version,
    rolloutId,
    pipelineStatus: run.status,
    rolloutStatus: rollout.rollout.status,
    canaryFrom: firstAt(rollout, 'RolloutStepStarted'),
    rolloutEndedAt: rollout.rollout.endedAt,
    traffic: statsDifference(statsAfter, statsBefore),
  }
}

function firstAt(details: RolloutDetails, type: string): string | null {
  return details.timeline.find((e) => e.type === type)?.at ?? null
}

/** Until feedback's quality view counts the labels sent (the sink writes in batches). */
export async function waitForLabels(feedback: FeedbackClient, atLeast: number, deadline: number) {
  await poll('the labels to reach ClickHouse', secondsLeft(deadline), async () => {
    const view = await feedback.getQuality({ params: { model: MODEL }, query: { window: '1h' } })
    const labelled = view.versions.reduce((sum, v) => sum + v.labelled, 0)
    return labelled >= atLeast ? labelled : undefined
  })
}

/** Whole seconds until the demo's deadline, at least one (a poll's timeout). */
function secondsLeft(deadline: number): number {
  return Math.max(1, Math.round((deadline - Date.now()) / 1000))
}
