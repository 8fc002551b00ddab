import type { IncomingHttpHeaders } from 'node:http'
import { ValidationError } from '@argmax/errors'

/** Waits until the read model has applied `position` (a command's reply), or fails. */
export type WaitForPosition = (position: number) => Promise<void>

export const MIN_POSITION_HEADER = 'x-argmax-min-position'

/**
 * The position a query must see: `?minPosition=` or the `x-argmax-min-position` header, as
 * returned by a command (0: none). Waiting for it gives a client its own writes back.
 */
export function requestedPosition(request: {
  query: { minPosition?: number }
  headers: IncomingHttpHeaders
}): number {
  const fromQuery = request.query.minPosition
  const header = request.headers[MIN_POSITION_HEADER]
  const fromHeader = typeof header === 'string' && header !== '' ? Number(header) : undefined
  if (fromHeader !== undefined && (!Number.isSafeInteger(fromHeader) || fromHeader < 0)) {
    throw ValidationError.field(`header/${MIN_POSITION_HEADER}`, 'must be a whole number ≥ 0')
  }
  return Math.max(fromQuery ?? 0, fromHeader ?? 0)
}

/**
 * Reads from the read model once it has applied `position` (0: as it is). With a position, the
 * caller's access is checked first against the events (the read model may not have the
 * resource yet), so a caller who may not see it is refused at once, not after waiting.
 */
export async function readAfterPosition<T>(
  position: number,
  steps: {
    checkAccessFromEvents: () => Promise<unknown>
    waitForPosition: WaitForPosition
    read: () => Promise<T>
  },
): Promise<T> {
  if (position > 0) {
    await steps.checkAccessFromEvents()
    await steps.waitForPosition(position)
  }
  return steps.read()
}
