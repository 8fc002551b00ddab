import type { FastifyRequest } from 'fastify'
import { ValidationError } from '@argmax/errors'

/** Waits until the read model has applied `position` (a command's reply), or fails. */
export type WaitForPosition = (position: number) => Promise<void>

export const MIN_POSITION_HEADER = 'x-argmax-min-position'

/**
 * The position a query must see: `?minPosition=` or the `x-argmax-min-position` header, as
 * returned by a command. Waiting here gives a client its own writes back.
 */
export async function awaitRequestedPosition(
  request: FastifyRequest,
  waitForPosition: WaitForPosition,
): Promise<void> {
  const fromQuery = (request.query as { minPosition?: number } | undefined)?.minPosition
  const header = request.headers[MIN_POSITION_HEADER]
  const fromHeader = typeof header === 'string' && header !== '' ? Number(header) : undefined
  if (fromHeader !== undefined && (!Number.isSafeInteger(fromHeader) || fromHeader < 0)) {
    throw ValidationError.field(`header/${MIN_POSITION_HEADER}`, 'must be a whole number ≥ 0')
  }
  const position = Math.max(fromQuery ?? 0, fromHeader ?? 0)
  if (position > 0) await waitForPosition(position)
}
