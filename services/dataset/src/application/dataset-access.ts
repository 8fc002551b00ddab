import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import { loadAggregate } from '@argmax/events'
import { datasetDecider, type DatasetState } from '../domain/index.ts'
import { datasetSubject } from '../streams.ts'
import { assertCanChange, assertCanRead } from './access.ts'
import type { DatasetDeps } from './dependencies.ts'

type ExistingDataset = Exclude<DatasetState, { status: 'absent' }>

/**
 * The dataset from its events, if the caller may see it (404 otherwise). The events are never
 * behind, unlike the read model: a query that waits for its own write (`minPosition`) checks
 * access here first, so a caller without access is refused at once.
 */
export function readableDataset(
  deps: Pick<DatasetDeps, 'store' | 'names'>,
  principal: Principal,
  datasetId: string,
): Promise<ExistingDataset> {
  return accessibleDataset(deps, datasetId, (state) =>
    assertCanRead(principal, state.ownerId, 'dataset', datasetId),
  )
}

/** The dataset from its events, if the caller may change it (404 when they may not see it). */
export function changeableDataset(
  deps: Pick<DatasetDeps, 'store' | 'names'>,
  principal: Principal,
  datasetId: string,
): Promise<ExistingDataset> {
  return accessibleDataset(deps, datasetId, (state) =>
    assertCanChange(principal, state.ownerId, 'dataset', datasetId),
  )
}

async function accessibleDataset(
  deps: Pick<DatasetDeps, 'store' | 'names'>,
  datasetId: string,
  assertAccess: (state: ExistingDataset) => void,
): Promise<ExistingDataset> {
  const { state } = await loadAggregate(
    deps.store,
    datasetDecider,
    datasetSubject(deps.names, datasetId),
  )
  if (state.status === 'absent' || state.status === 'purged') {
    throw new NotFoundError('dataset', datasetId)
  }
  assertAccess(state)
  return state
}
