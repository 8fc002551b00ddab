import type { IncomingHttpHeaders } from 'node:http'
import type { Principal } from '@argmax/auth'
import { NotFoundError, ValidationError } from '@argmax/errors'
import { assertCanRead } from '../application/access.ts'
import type { RegistryDeps } from '../application/dependencies.ts'
import { readableModel } from '../application/model-access.ts'
import { findModel, type ModelView } from '../projections/catalog.queries.ts'

/** Waits until the read model has applied `position` (a command's reply), or fails. */
export type WaitForPosition = (position: number) => Promise<void>

export const MIN_POSITION_HEADER = 'x-argmax-min-position'

/**
 * The position a query must see: `?minPosition=` or the `x-argmax-min-position` header, as
 * returned by a command (0: none). Waiting for it gives a client its own writes back; routes
 * check the caller's access before they wait.
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
 * The model as the read model has it once `position` is applied (0: as it is), for a caller who
 * may see it. With a position, access is checked first against the events (the read model may
 * not have the model yet): a caller who may not see it is refused at once, not after waiting.
 */
export async function visibleModel(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'db'>,
  principal: Principal,
  model: string,
  position: number,
  waitForPosition: WaitForPosition,
): Promise<ModelView> {
  if (position > 0) {
    await readableModel(deps, principal, model)
    await waitForPosition(position)
  }
  const view = await findModel(deps.db, model)
  if (!view) throw new NotFoundError('model', model)
  assertCanRead(principal, view.ownerId, model)
  return view
}
