import type { IncomingHttpHeaders } from 'node:http'
import { ValidationError } from '@argmax/errors'

export const MIN_POSITION_HEADER = 'x-argmax-min-position'

/**
 * The position a query must see: `?minPosition=` or the `x-argmax-min-position` header, as
 * returned by a command (0: none).
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
