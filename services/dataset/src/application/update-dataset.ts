import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import { handleCommand, loadAggregate } from '@argmax/events'
import { datasetDecider, type DatasetState } from '../domain/index.ts'
import { datasetSubject } from '../streams.ts'
import { assertCanChange } from './access.ts'
import type { DatasetDeps } from './dependencies.ts'

export interface UpdateDatasetInput {
  name?: string
  description?: string
  tags?: string[]
}

/** Loads the dataset and checks the caller may change it (404 when they may not see it). */
export async function changeableDataset(
  deps: Pick<DatasetDeps, 'store' | 'names'>,
  principal: Principal,
  datasetId: string,
): Promise<Exclude<DatasetState, { status: 'absent' }>> {
  const { state } = await loadAggregate(
    deps.store,
    datasetDecider,
    datasetSubject(deps.names, datasetId),
  )
  if (state.status === 'absent' || state.status === 'purged') {
    throw new NotFoundError('dataset', datasetId)
  }
  assertCanChange(principal, state.ownerId, 'dataset', datasetId)
  return state
}

export async function updateDataset(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  datasetId: string,
  input: UpdateDatasetInput,
): Promise<{ position: number; state: DatasetState }> {
  await changeableDataset(deps, principal, datasetId)
  const outcome = await handleCommand(
    deps.store,
    datasetDecider,
    datasetSubject(deps.names, datasetId),
    { type: 'UpdateDataset', data: { datasetId, ...input, now: deps.now() } },
    { actor: principal },
  )
  return { position: outcome.position, state: outcome.state }
}
