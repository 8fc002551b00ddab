import { UnavailableError } from '@argmax/errors'
import type { RunningProjection } from '@argmax/projections'

/**
 * One /readyz check per projection, named as the service named it: ready while it runs; while
 * it is stuck on a failure, the check fails naming its position, the failing sequence and the
 * error (it keeps retrying meanwhile, so readiness comes back by itself).
 */
export function projectionReadiness(
  projections: Record<string, RunningProjection>,
): Record<string, () => Promise<void>> {
  return Object.fromEntries(
    Object.entries(projections).map(([name, projection]) => [
      name,
      async () => {
        const status = projection.status()
        if (status.state === 'running') return
        const failure = status.failure
        if (!failure) throw new UnavailableError(`projection ${status.name} is ${status.state}`)
        const { error } = failure
        throw new UnavailableError(
          `${error.message}; its position is ${status.position}, ${failure.attempts} ` +
            `attempts since ${failure.since.toISOString()}, retrying`,
          {
            projection: status.name,
            stream: status.stream,
            position: status.position,
            ...(error.sequence !== undefined ? { failingSequence: error.sequence } : {}),
            ...(error.eventType ? { eventType: error.eventType } : {}),
            error: error.cause instanceof Error ? error.cause.message : error.message,
            attempts: failure.attempts,
            since: failure.since.toISOString(),
          },
        )
      },
    ]),
  )
}
