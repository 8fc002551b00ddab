import type { RetrainRequestedData } from '@argmax/contracts'
import { handleCommand } from '@argmax/events'
import { modelFeedbackDecider } from '../domain/model-feedback.decider.ts'
import { subjects } from '../streams.ts'
import type { FeedbackDeps } from './dependencies.ts'

/**
 * Appends `RetrainRequested` (the published contract) on `feedback.model.<name>`, once per
 * cause: its event id derives from the cause (JetStream's duplicate window drops a second
 * append) and the model's aggregate remembers recent causes (beyond the window).
 */
export async function requestRetrain(
  deps: Pick<FeedbackDeps, 'store' | 'names' | 'now'>,
  request: Omit<RetrainRequestedData, 'requestedAt'> & { cause: string },
  meta: { actor: string; correlationId?: string; causationId?: string },
): Promise<{ written: boolean; position: number }> {
  const outcome = await handleCommand(
    deps.store,
    modelFeedbackDecider,
    subjects.model(deps.names, request.model),
    { type: 'RequestRetrain', data: { ...request, now: deps.now() } },
    {
      actor: meta.actor as `system:${string}`,
      ...(meta.correlationId ? { correlationId: meta.correlationId } : {}),
      ...(meta.causationId ? { causationId: meta.causationId } : {}),
    },
  )
  return { written: outcome.written > 0, position: outcome.position }
}
