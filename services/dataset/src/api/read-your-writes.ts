import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import { readAfterPosition, type WaitForPosition } from '@argmax/http'
import { assertCanRead } from '../application/access.ts'
import { readableDataset } from '../application/dataset-access.ts'
import type { DatasetDeps } from '../application/dependencies.ts'
import { findDataset, type DatasetView } from '../projections/catalog.queries.ts'

/** The dataset as the read model has it once `position` is applied, for a caller who may see it. */
export function visibleDataset(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'db'>,
  principal: Principal,
  datasetId: string,
  position: number,
  waitForPosition: WaitForPosition,
): Promise<DatasetView> {
  return readAfterPosition(position, {
    checkAccessFromEvents: () => readableDataset(deps, principal, datasetId),
    waitForPosition,
    read: async () => {
      const view = await findDataset(deps.db, datasetId)
      if (!view) throw new NotFoundError('dataset', datasetId)
      assertCanRead(principal, view.ownerId, 'dataset', datasetId)
      return view
    },
  })
}
