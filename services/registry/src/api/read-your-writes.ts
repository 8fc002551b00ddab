import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import { readAfterPosition, type WaitForPosition } from '@argmax/http'
import { assertCanRead } from '../application/access.ts'
import type { RegistryDeps } from '../application/dependencies.ts'
import { readableModel } from '../application/model-access.ts'
import { findModel, type ModelView } from '../projections/catalog.queries.ts'

/** The model as the read model has it once `position` is applied, for a caller who may see it. */
export function visibleModel(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'db'>,
  principal: Principal,
  model: string,
  position: number,
  waitForPosition: WaitForPosition,
): Promise<ModelView> {
  return readAfterPosition(position, {
    checkAccessFromEvents: () => readableModel(deps, principal, model),
    waitForPosition,
    read: async () => {
      const view = await findModel(deps.db, model)
      if (!view) throw new NotFoundError('model', model)
      assertCanRead(principal, view.ownerId, model)
      return view
    },
  })
}
