import {
  loadAggregate,
  startConsumer,
  type ConsumerLogger,
  type RunningConsumer,
} from '@argmax/events'
import type { NatsConnection } from 'nats'
import type { TrainingDeps } from '../application/dependencies.ts'
import { holdSlot, releaseSlot } from '../application/quotas.ts'
import { RUN_RELEASING_EVENTS, runDecider, type RunEvent } from '../domain/index.ts'
import { runSubject, runSubjects } from '../streams.ts'

export const QUOTA_DURABLE = 'training-quota'

/**
 * Keeps the quota aggregates in step with the runs, through the platform's one durable
 * consumer (on `training.run.>`): a run that ends, is cancelled or dead-lettered gives its
 * owner's concurrency slot back; a dead-lettered run an admin retries takes one again; a run
 * found queued without an admission (its admission was swept as an orphan) is given one.
 * Each of these is idempotent per run on the quota aggregate, so redeliveries and replays from
 * the start of the stream change nothing twice.
 */
export async function startQuotaConsumer(
  deps: TrainingDeps,
  options: { nc: NatsConnection; logger?: ConsumerLogger; parkingReplicas: number },
): Promise<RunningConsumer> {
  return startConsumer({
    nc: options.nc,
    stream: deps.names.stream,
    durable: QUOTA_DURABLE,
    filterSubject: runSubjects(deps.names),
    ackWaitMs: 30_000,
    maxDeliver: 20,
    parkingReplicas: options.parkingReplicas,
    ...(options.logger ? { log: options.logger } : {}),
    async handler(recorded) {
      const event = { type: recorded.type, data: recorded.data } as RunEvent
      if (RUN_RELEASING_EVENTS.includes(event.type)) {
        const { runId, ownerId } = event.data as { runId: string; ownerId: string }
        await releaseSlot(deps, ownerId, runId, 'finished', recorded.id)
        return
      }
      if (event.type !== 'TrainingRunQueued' && event.type !== 'TrainingRunRetried') return
      const { runId, ownerId } = event.data
      // Only a run still waiting or training holds a slot (a replay of old history must not
      // take slots for runs long finished).
      const { state } = await loadAggregate(deps.store, runDecider, runSubject(deps.names, runId))
      if (state.status !== 'PENDING' && state.status !== 'TRAINING') return
      await holdSlot(
        deps,
        ownerId,
        runId,
        event.type === 'TrainingRunRetried' ? 'admin_retry' : 'reconciled',
        recorded.id,
      )
    },
  })
}
