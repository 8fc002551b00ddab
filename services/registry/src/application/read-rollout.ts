import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import {
  evolveOneRollout,
  modelOfRollout,
  rolloutEventTime,
  type Rollout,
  type RolloutEvent,
} from '../domain/index.ts'
import { rolloutSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { readableModel } from './model-access.ts'

export interface RolloutTimeline {
  rollout: Rollout
  timeline: Array<{
    sequence: number
    type: string
    at: string
    actor: string
    data: Record<string, unknown>
  }>
}

/**
 * A rollout and its timeline, from its events (never behind, unlike the listing): every
 * decision with who made it and its evidence. Visible to whoever may read the model.
 */
export async function readRollout(
  deps: Pick<RegistryDeps, 'store' | 'names'>,
  principal: Principal,
  id: string,
): Promise<RolloutTimeline> {
  const model = modelOfRollout(id)
  if (!model) throw new NotFoundError('rollout', id)
  try {
    await readableModel(deps, principal, model)
  } catch (error) {
    // Someone else's model: its rollouts do not exist for the caller either.
    if (error instanceof NotFoundError) throw new NotFoundError('rollout', id)
    throw error
  }
  let rollout: Rollout | undefined
  const timeline: RolloutTimeline['timeline'] = []
  for (const recorded of await deps.store.load(rolloutSubject(deps.names, model))) {
    const event = { type: recorded.type, data: recorded.data } as RolloutEvent
    if (event.data.rolloutId !== id) continue
    rollout = evolveOneRollout(rollout, event)
    timeline.push({
      sequence: recorded.sequence,
      type: recorded.type,
      at: rolloutEventTime(event),
      actor: recorded.actor,
      data: event.data as unknown as Record<string, unknown>,
    })
  }
  if (!rollout) throw new NotFoundError('rollout', id)
  return { rollout, timeline }
}
