import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import type { DatasetState } from '../domain/index.ts'
import { assertCanRead } from './access.ts'
import { loadDataset } from './aggregates.ts'
import type { DatasetDeps } from './dependencies.ts'

/**
 * Loads the dataset from its events and checks the caller may see it (404 otherwise). The
 * events are never behind, unlike the read model: a query that waits for its own write
 * (`minPosition`) checks access here first, so a caller without access is refused at once.
 */
export async function readableDataset(
  deps: Pick<DatasetDeps, 'store' | 'names'>,
  principal: Principal,
  datasetId: string,
): Promise<Exclude<DatasetState, { status: 'absent' }>> {
  const { state } = await loadDataset(deps, datasetId)
  if (state.status === 'absent' || state.status === 'purged') {
    throw new NotFoundError('dataset', datasetId)
  }
  assertCanRead(principal, state.ownerId, 'dataset', datasetId)
  return state
}
